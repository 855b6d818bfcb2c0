#include "cluster/address.h"

#include <cctype>
#include <charconv>

namespace prima::cluster {

namespace {

bool valid_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_';
}

}  // namespace

std::string HostPort::str() const { return ipv6 ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port); }

std::string HostPort::zmq_endpoint() const {
  const std::string p = port == 0 ? "*" : std::to_string(port);
  return ipv6 ? fmt::format("tcp://[{}]:{}", host, p) : fmt::format("tcp://{}:{}", host, p);
}

Result<HostPort> parse_address(std::string_view text, uint16_t default_port) {
  auto bad = [&](std::string_view why) {
    return Status::error(Status::Code::invalid, "'{}' is not an address ({}): expected HOST:PORT, e.g. 10.0.0.2:9000",
                         text, why);
  };
  HostPort hp;
  hp.port = default_port;
  std::string_view host = text, port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("junk after ']'");
      port = rest.substr(1);
    }
    hp.ipv6 = true;
    for (char c : host)
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) return bad("bad IPv6 address");
    if (host.empty()) return bad("empty IPv6 address");
  } else {
    const size_t colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      if (text.find(':') != colon) return bad("IPv6 addresses need brackets: [addr]:port");
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
    } else if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
      host = {};
      port = text;  // "9000"
    }
    if (host == "*") host = {};
    for (char c : host)
      if (!valid_host_char(c)) return bad("bad character in host name");
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (!port.empty() || (text.size() > 0 && text.back() == ':')) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || v > 65535) return bad("bad port");
    hp.port = static_cast<uint16_t>(v);
  }
  hp.host = std::string(host);
  return hp;
}

std::string strip_scheme(std::string_view ep) {
  const size_t p = ep.find("://");
  return std::string(p == std::string_view::npos ? ep : ep.substr(p + 3));
}

}  // namespace prima::cluster
