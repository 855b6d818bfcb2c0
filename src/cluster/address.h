// Device addresses: "HOST:PORT" as users type them (--listen, --workers) and as the Config carries them.
//   "10.203.0.12:9000", "laptop.local:9000", "[fe80::1]:9000", "9000" or ":9000" (listen on every interface),
//   "10.203.0.12" (default port). Port 0 when listening = any free port (see Endpoint::address()).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace prima::cluster {

inline constexpr uint16_t kDefaultPort = 9000;

struct HostPort {
  std::string host;  // without brackets; "0.0.0.0" for a wildcard
  uint16_t port = 0;
  bool ipv6 = false;

  std::string str() const;           // "host:port", "[v6]:port"
  std::string zmq_endpoint() const;  // "tcp://host:port"; port 0 becomes "*" (bind only)
};

// Status::Code::invalid naming the text when it is not an address.
Result<HostPort> parse_address(std::string_view text, uint16_t default_port = kDefaultPort);

// "tcp://10.0.0.1:41234" (a ZMQ last endpoint) -> "10.0.0.1:41234".
std::string strip_scheme(std::string_view zmq_endpoint);

}  // namespace prima::cluster
