#include "cluster/handshake.h"

#include <sys/utsname.h>
#include <unistd.h>

#include "core/clock.h"

namespace prima::cluster {

namespace {

std::string hex_prefix(const std::vector<uint8_t>& d) {
  std::string s;
  for (size_t i = 0; i < d.size() && i < 8; ++i) s += fmt::format("{:02x}", d[i]);
  return s.empty() ? "(none)" : s + (d.size() > 8 ? "…" : "");
}

}  // namespace

std::vector<std::pair<std::string, std::string>> basic_device_facts() {
  std::vector<std::pair<std::string, std::string>> f;
  f.emplace_back("cores", std::to_string(sysconf(_SC_NPROCESSORS_ONLN)));
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) f.emplace_back("memory", std::to_string(static_cast<uint64_t>(pages) * page));
  struct utsname u {};
  if (uname(&u) == 0) {
    f.emplace_back("os", u.sysname);
    f.emplace_back("os_release", u.release);
    f.emplace_back("arch", u.machine);
    f.emplace_back("hostname", u.nodename);
  }
  return f;
}

Status check_model(const ModelFingerprint& ours, const ModelFingerprint& theirs, std::string_view who) {
  if (theirs.size != ours.size)
    return Status::error(Status::Code::mismatch, "{} has a different model file: {} bytes there, {} here", who,
                         theirs.size, ours.size);
  if (theirs.digest != ours.digest)
    return Status::error(Status::Code::mismatch,
                         "{} has a different model file: same size ({} bytes) but hash {} there, {} here", who,
                         ours.size, hex_prefix(theirs.digest), hex_prefix(ours.digest));
  return Status::ok();
}

Status check_peer_hello(const Hello& ours, const Hello& theirs, std::string_view who) {
  if (theirs.version_major != ours.version_major)
    return Status::error(Status::Code::mismatch, "{} speaks protocol {}.{}, this device speaks {}.{}", who,
                         theirs.version_major, theirs.version_minor, ours.version_major, ours.version_minor);
  if (theirs.role == ours.role)
    return Status::error(Status::Code::invalid, "{} is also a {}: a ring has one head and its workers", who,
                         role_name(ours.role));
  return check_model(ours.model, theirs.model, who);
}

Result<Hello> handshake_with_worker(Connection& c, const Hello& ours, Millis timeout) {
  const std::string who = "worker " + c.describe();
  if (Status s = c.send(ours); !s) return s;
  const uint64_t hello_seq = c.last_seq();
  const int64_t deadline = now_ns() + timeout.count() * 1000000;
  while (true) {
    const int64_t left = std::max<int64_t>(0, (deadline - now_ns()) / 1000000);
    auto in = c.recv(Millis(left));
    if (!in) {
      if (in.status().code() == Status::Code::timeout)
        return Status::error(Status::Code::timeout, "{} did not answer the handshake within {} ms ({})", who,
                             timeout.count(), in.status().message());
      return in.status();
    }
    if (const auto* e = in->msg.as<ErrorMsg>()) {
      if (e->in_reply_to != 0 && e->in_reply_to != hello_seq) continue;  // about an older message
      const auto code = e->code == ErrorCode::busy ? Status::Code::cancelled : Status::Code::mismatch;
      return Status::error(code, "{} refused the handshake ({}): {}", who, error_code_name(e->code), e->text);
    }
    const auto* h = in->msg.as<Hello>();
    if (!h || h->session != ours.session) continue;  // a stale reply from an earlier session
    if (Status s = check_peer_hello(ours, *h, who); !s) return s;
    return *h;
  }
}

std::string HeadSession::describe() const {
  return fmt::format("head {} at {}", hello.device_name.empty() ? "(unnamed)" : hello.device_name,
                     ip.empty() ? "?" : ip);
}

Result<HeadSession> accept_head(Endpoint& ep, const Incoming& in, Hello ours) {
  const auto* theirs = in.msg.as<Hello>();
  if (!theirs) return Status::error(Status::Code::invalid, "expected a Hello, got {}", describe(in.msg));
  HeadSession s{in.peer, in.peer_ip, *theirs};
  ours.session = theirs->session;
  ours.observed_ip = in.peer_ip;
  Status reply = ep.send(in.peer, ours);
  if (Status check = check_peer_hello(ours, *theirs, s.describe()); !check) return check;
  if (!reply) return reply;
  return s;
}

Status refuse_busy(Endpoint& ep, const Incoming& hello, const HeadSession& current, std::string_view my_name) {
  return ep.reply_error(hello, ErrorCode::busy,
                        fmt::format("worker {} is serving {} (session {:016x})", my_name, current.describe(),
                                    current.hello.session));
}

std::string return_address(const Hello& worker_reply, uint16_t head_port) {
  const std::string& ip = worker_reply.observed_ip;
  return ip.find(':') != std::string::npos ? fmt::format("[{}]:{}", ip, head_port)
                                           : fmt::format("{}:{}", ip, head_port);
}

}  // namespace prima::cluster
