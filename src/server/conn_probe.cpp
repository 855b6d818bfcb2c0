#include "server/conn_probe.h"

#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>

namespace prima::server {
namespace {

// Numeric host and port of a socket address, as cpp-httplib writes them into Request.
bool host_port(const sockaddr_storage& ss, socklen_t len, std::string& host, int& port) {
  char h[NI_MAXHOST], s[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&ss), len, h, sizeof(h), s, sizeof(s),
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return false;
  host = h;
  port = std::atoi(s);
  return true;
}

#ifdef __linux__
struct Endpoint {
  std::string host;
  int port = 0;
};

// Calls visit(fd, self, peer) for every connected socket of this process (listening ones have no peer) until it
// returns true.
template <class Visit>
void for_each_connection(Visit&& visit) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return;
  while (const dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    struct stat st {};
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage peer{}, self{};
    socklen_t peer_len = sizeof(peer), self_len = sizeof(self);
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&self), &self_len) != 0) continue;
    Endpoint p, s;
    if (!host_port(peer, peer_len, p.host, p.port) || !host_port(self, self_len, s.host, s.port)) continue;
    if (visit(static_cast<int>(fd), s, p)) break;
  }
  closedir(dir);
}
#endif

}  // namespace

ConnectionProbe::ConnectionProbe(const std::string& local_addr, int local_port, const std::string& remote_addr,
                                 int remote_port) {
#ifdef __linux__
  if (remote_port <= 0) return;
  for_each_connection([&](int fd, const Endpoint& self, const Endpoint& peer) {
    if (peer.port != remote_port || peer.host != remote_addr) return false;
    if ((local_port > 0 && self.port != local_port) || (!local_addr.empty() && self.host != local_addr)) return false;
    fd_ = fd;
    return true;
  });
#else
  (void)local_addr;
  (void)local_port;
  (void)remote_addr;
  (void)remote_port;
#endif
}

bool ConnectionProbe::closed() const {
#ifdef __linux__
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLRDHUP, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
#else
  return false;
#endif
}

int shutdown_connections(int port) {
  int n = 0;
#ifdef __linux__
  for_each_connection([&](int fd, const Endpoint& self, const Endpoint&) {
    if (self.port == port && ::shutdown(fd, SHUT_RDWR) == 0) ++n;
    return false;
  });
#else
  (void)port;
#endif
  return n;
}

void ConnectionProbe::shutdown_read() const {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RD);
}

}  // namespace prima::server
