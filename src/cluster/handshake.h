// The handshake: the head sends Hello to each worker; the worker checks it and always answers with its own Hello
// (so the head can compare too); both sides then refuse a session whose protocol major or model file differs, each
// with an error naming the other side:
//   head:   "worker w2 at 10.203.0.12:9000 has a different model file: 4683073536 bytes there, 4683073600 here"
//   worker: "head h at 10.203.0.11 has a different model file: ..."
// A worker serves one head at a time: another head's Hello gets ErrorCode::busy.
//
// Address discovery: the worker's reply carries `observed_ip`, the IP the head's connection came from as the worker
// saw it (ZMQ's Peer-Address). The head's address for the ring's last hop is that IP with the head's listening port
// (return_address), which the head then sends explicitly in Config::next_hop: nobody guesses an address.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "cluster/connection.h"
#include "cluster/endpoint.h"

namespace prima::cluster {

// cores, memory (bytes), os, arch, hostname of this machine, for Hello::facts.
std::vector<std::pair<std::string, std::string>> basic_device_facts();

// Pure checks of the other side's Hello against ours. `who` names the other side in the error.
Status check_model(const ModelFingerprint& ours, const ModelFingerprint& theirs, std::string_view who);
Status check_peer_hello(const Hello& ours, const Hello& theirs, std::string_view who);

// Head side: sends `ours` (role head, session set) and waits for the worker's Hello. The Status names the worker
// (Connection::describe()) for a timeout, a refusal (its Error), a different version or a different model.
Result<Hello> handshake_with_worker(Connection& c, const Hello& ours, Millis timeout);

struct HeadSession {
  std::string peer;  // the head's routing identity at our Endpoint (replies go there)
  std::string ip;    // the head's IP as seen here
  Hello hello;       // the head's Hello
  std::string describe() const;  // "head h at 10.0.0.1"
};

// Worker side, for an Incoming Hello: replies with `ours` (session echoed, observed_ip filled) and returns the
// session — or, when the check fails, still replies (the head reports it too) and returns the error.
Result<HeadSession> accept_head(Endpoint& ep, const Incoming& hello, Hello ours);
// Worker side, while serving `current`: tells another head that this worker is busy.
Status refuse_busy(Endpoint& ep, const Incoming& hello, const HeadSession& current, std::string_view my_name);

// "10.0.0.1" + 9100 -> "10.0.0.1:9100" (brackets for IPv6): where the last device reaches the head.
std::string return_address(const Hello& worker_reply, uint16_t head_port);

}  // namespace prima::cluster
