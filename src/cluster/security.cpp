#include "cluster/security.h"

#include <unistd.h>

#include <mutex>
#include <set>
#include <thread>

#include "cluster/zmq_util.h"
#include "core/log.h"

namespace prima::cluster {

namespace {

constexpr size_t kZ85KeyLen = 40;

std::string public_of(const std::string& secret) {
  char pub[kZ85KeyLen + 1] = {};
  if (zmq_curve_public(pub, secret.c_str()) != 0) return {};
  return pub;
}

// The ZAP handler (RFC 27) for this process: admits CURVE clients whose public key belongs to a cluster key some
// listener of this process uses. One thread, started with the first secured listener, living as long as the process.
class ZapHandler {
 public:
  static ZapHandler& get() {
    static std::mutex mu;
    static ZapHandler* h = nullptr;
    static pid_t owner = 0;
    std::lock_guard<std::mutex> lock(mu);
    if (h == nullptr || owner != getpid()) {  // a forked child needs its own, in its own context
      h = new ZapHandler();                   // leaked with the context it serves
      owner = getpid();
    }
    return *h;
  }
  void allow(const std::string& public_z85) {
    uint8_t raw[32];
    if (zmq_z85_decode(raw, public_z85.c_str()) == nullptr) return;
    std::lock_guard<std::mutex> lock(mu_);
    allowed_.insert(std::string(reinterpret_cast<char*>(raw), 32));
  }

 private:
  ZapHandler() : sock_(detail::context(), zmq::socket_type::rep) {
    sock_.set(zmq::sockopt::linger, 0);
    sock_.bind("inproc://zeromq.zap.01");
    std::thread([this] { run(); }).detach();
  }
  void run() {
    while (true) {
      std::vector<zmq::message_t> req;
      try {
        do {
          req.emplace_back();
          (void)sock_.recv(req.back(), zmq::recv_flags::none);
        } while (req.back().more());
      } catch (const zmq::error_t&) {
        return;
      }
      bool ok = false;
      if (req.size() >= 7 && req[5].to_string_view() == "CURVE" && req[6].size() == 32) {
        std::lock_guard<std::mutex> lock(mu_);
        ok = allowed_.count(std::string(static_cast<const char*>(req[6].data()), 32)) != 0;
      }
      if (!ok && req.size() >= 4) log::warn("rejected a connection from {}: wrong cluster key", req[3].to_string());
      const std::string id = req.size() >= 2 ? req[1].to_string() : "";
      const char* code = ok ? "200" : "400";
      try {
        sock_.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
        sock_.send(zmq::buffer(id), zmq::send_flags::sndmore);
        sock_.send(zmq::buffer(std::string_view(code)), zmq::send_flags::sndmore);
        sock_.send(zmq::buffer(std::string_view(ok ? "OK" : "wrong cluster key")), zmq::send_flags::sndmore);
        sock_.send(zmq::buffer(std::string_view("")), zmq::send_flags::sndmore);
        sock_.send(zmq::buffer(std::string_view("")), zmq::send_flags::none);
      } catch (const zmq::error_t&) {
        return;
      }
    }
  }
  zmq::socket_t sock_;
  std::mutex mu_;
  std::set<std::string> allowed_;
};

}  // namespace

bool curve_available() { return zmq_has("curve") != 0; }

std::string generate_cluster_key() {
  char pub[kZ85KeyLen + 1] = {}, sec[kZ85KeyLen + 1] = {};
  PRIMA_CHECK(zmq_curve_keypair(pub, sec) == 0, "cannot generate a CURVE key: {}", zmq_strerror(zmq_errno()));
  return sec;
}

Status check_cluster_key(std::string_view key) {
  if (!curve_available()) return Status::error(Status::Code::invalid, "this libzmq has no CURVE support: no cluster key");
  uint8_t raw[32];
  const std::string k(key);
  if (k.size() != kZ85KeyLen || zmq_z85_decode(raw, k.c_str()) == nullptr || public_of(k).empty())
    return Status::error(Status::Code::invalid, "the cluster key must be 40 Z85 characters (see generate_cluster_key)");
  return Status::ok();
}

Status apply_client_security(zmq::socket_t& s, const std::string& key) {
  if (key.empty()) return Status::ok();
  if (Status st = check_cluster_key(key); !st) return st;
  const std::string pub = public_of(key);
  s.set(zmq::sockopt::curve_serverkey, pub);
  s.set(zmq::sockopt::curve_publickey, pub);
  s.set(zmq::sockopt::curve_secretkey, key);
  return Status::ok();
}

Status apply_server_security(zmq::socket_t& s, const std::string& key) {
  if (key.empty()) return Status::ok();
  if (Status st = check_cluster_key(key); !st) return st;
  ZapHandler::get().allow(public_of(key));
  s.set(zmq::sockopt::curve_server, 1);
  s.set(zmq::sockopt::curve_secretkey, key);
  s.set(zmq::sockopt::zap_domain, std::string("prima"));
  return Status::ok();
}

}  // namespace prima::cluster
