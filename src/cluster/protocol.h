// The prima wire protocol: one message = one ZeroMQ frame. A pure codec (no sockets); docs/protocol.md is the
// field-by-field reference, this is the summary. All integers little-endian.
//
// Header (24 bytes, the same layout in every protocol version, so any version can read any header):
//   0  u32 magic        0x4D495250 (bytes "PRIM")
//   4  u16 major        1      a receiver rejects another major with an Error naming both versions
//   6  u16 minor        0      same major, higher minor: may append fields a receiver skips (see below)
//   8  u16 type         MsgType
//   10 u16 flags        reserved; receivers ignore bits they do not know
//   12 u32 payload_len  bytes after the header; the frame is exactly 24 + payload_len bytes; <= kMaxPayload
//   16 u64 seq          sender's per-link sequence number (stamped by the transport)
//   24 payload
//
// Types and payloads (str16 = u16 length + UTF-8 bytes; str32 = u32 length + bytes; no terminators):
//   1  Error          u32 code (ErrorCode), u64 in_reply_to (seq, 0 = none), str32 text   [frozen forever]
//   2  Hello          u16 major, u16 minor, u8 role, u8 0, u64 session, str16 device_name, str16 software,
//                     u16 listen_port, str16 observed_ip, u64 model_size, u16 n + n digest bytes,
//                     u16 n_facts, n_facts × (str16 key, str16 value)
//   3  Ack            u64 acked_seq
//   4  Heartbeat      u64 session, u64 t_send_ns, u64 t_echo_ns, u8 is_reply
//   5  Config         u16 n_fields, n_fields × field   (typed key/value, see fields.h; keys in config.h)
//   6  PlanChange     u16 n_fields, n_fields × field
//   7  KvOp           u8 op (1 clear, 2 remove, 3 copy, 4 keep), i32 seq, i32 seq_dst, i32 p0, i32 p1
//   8  ProfileRequest str32 json
//   9  ProfileReply   str32 json
//   10 Stop           str16 reason            (head → worker: end the session, go back to waiting)
//   11 Bye            str16 reason            (either side: this process is going away)
//   12 StepStats      u64 step_id, u32 micro_batch, u16 cycle, u16 0, u32 n_tokens, u64 compute_ns, u64 wait_ns,
//                     u64 send_ns, u64 pagein_ns, u64 disk_read_bytes, u64 resident_bytes, u64 anon_bytes,
//                     u64 memory_total   (worker → head, after each micro-batch's last cycle on that worker; 1.1)
//   32 Activations    u64 step_id, u32 micro_batch, u16 cycle, u8 dtype (0 f32, 1 f16), u8 flags (0),
//                     u32 n_tokens, u32 n_embd, i32 pos[n_tokens], i32 seq_id[n_tokens], u8 output[n_tokens],
//                     zero padding to a multiple of 8 bytes from the start of the frame,
//                     data [n_tokens][n_embd] of dtype; the payload ends exactly after the data.
//
// Compatibility: fields are only ever appended. A receiver skips bytes after the fields it knows only when the
// sender's minor is higher than its own (a newer peer); from the same or an older minor they are an error.
// Activations have no trailing fields (the data ends the frame); they grow through `flags` instead.
//
// decode() never throws, never reads outside its input and allocates at most in proportion to the input:
// every count is checked against the bytes that remain before anything is reserved. Activations decode to a
// *view* of the input (no copy): the caller keeps the input alive while it uses Activations::wire.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "cluster/config.h"
#include "core/error.h"

namespace prima::cluster {

inline constexpr uint32_t kMagic = 0x4D495250;  // "PRIM"
inline constexpr uint16_t kVersionMajor = 1;
inline constexpr uint16_t kVersionMinor = 1;  // 1.1: StepStats
inline constexpr size_t kHeaderSize = 24;
inline constexpr uint32_t kMaxPayload = 1u << 30;  // 1 GiB: 512 tokens × 8192 f32 is 16 MiB
inline constexpr size_t kMaxShortString = 1024;    // str16 fields: names, addresses, versions, reasons
inline constexpr size_t kMaxText = 64 * 1024;      // Error text
inline constexpr size_t kMaxJson = 16u << 20;      // profile JSON
inline constexpr size_t kMaxDigest = 64;           // model digest bytes
inline constexpr size_t kMaxFacts = 256;
inline constexpr uint32_t kMaxTokens = 1u << 16;   // per Activations message
inline constexpr uint32_t kMaxEmbd = 1u << 17;

enum class MsgType : uint16_t {
  error = 1, hello = 2, ack = 3, heartbeat = 4, config = 5, plan_change = 6, kv_op = 7,
  profile_request = 8, profile_reply = 9, stop = 10, bye = 11, step_stats = 12, activations = 32,
};
std::string_view msg_type_name(MsgType t);

// Codes carried by ErrorMsg (stable numbers: they are on the wire).
enum class ErrorCode : uint32_t {
  unknown = 0, protocol = 1, version = 2, mismatch = 3, busy = 4, invalid = 5, internal = 6, stopped = 7,
};
std::string_view error_code_name(ErrorCode c);

struct ErrorMsg {
  ErrorCode code = ErrorCode::unknown;
  uint64_t in_reply_to = 0;  // seq of the message that failed, 0 = none
  std::string text;
  bool operator==(const ErrorMsg&) const = default;
};

enum class Role : uint8_t { head = 1, worker = 2 };
std::string_view role_name(Role r);

// Identifies a model file: the model module computes size + a hash of its header and tensor table.
struct ModelFingerprint {
  uint64_t size = 0;            // file size in bytes
  std::vector<uint8_t> digest;  // opaque hash, at most kMaxDigest bytes
  bool operator==(const ModelFingerprint&) const = default;
};

struct Hello {
  uint16_t version_major = kVersionMajor;  // sender's protocol version
  uint16_t version_minor = kVersionMinor;
  Role role = Role::head;
  uint64_t session = 0;           // chosen by the head for this session; the worker's reply echoes it
  std::string device_name;        // "head", "w1", a hostname
  std::string software_version;   // prima's version string
  uint16_t listen_port = 0;       // where the sender accepts ring traffic (0 = none)
  std::string observed_ip;        // in a reply: the IP the replier saw the other side's connection come from
  ModelFingerprint model;
  std::vector<std::pair<std::string, std::string>> facts;  // "cores"="8", "memory"="17179869184", "os"="linux"
  bool operator==(const Hello&) const = default;
};

struct Ack {
  uint64_t acked_seq = 0;
  bool operator==(const Ack&) const = default;
};

// A ping (is_reply = false) is answered by the receiver's transport with a pong echoing t_send_ns in t_echo_ns;
// the pinger's RTT is then now - t_echo_ns on its own clock (the two clocks are never compared).
struct Heartbeat {
  uint64_t session = 0;
  uint64_t t_send_ns = 0;
  uint64_t t_echo_ns = 0;
  bool is_reply = false;
  bool operator==(const Heartbeat&) const = default;
};

// KV-cache operation on every device's cache (llama.cpp's semantics). p1 < 0 means "to the end"; for remove,
// seq < 0 means every sequence.
enum class KvOpKind : uint8_t { clear = 1, remove = 2, copy = 3, keep = 4 };
struct KvOp {
  KvOpKind op = KvOpKind::clear;
  int32_t seq = 0;      // remove: sequence (-1 all); copy: source; keep: the sequence kept
  int32_t seq_dst = 0;  // copy: destination
  int32_t p0 = 0;       // positions [p0, p1)
  int32_t p1 = -1;
  bool operator==(const KvOp&) const = default;
};

struct ProfileRequest {
  std::string json;  // opaque to the cluster module
  bool operator==(const ProfileRequest&) const = default;
};
struct ProfileReply {
  std::string json;
  bool operator==(const ProfileReply&) const = default;
};
struct Stop {
  std::string reason;
  bool operator==(const Stop&) const = default;
};
struct Bye {
  std::string reason;
  bool operator==(const Bye&) const = default;
};

// What one worker spent on one micro-batch of a step (all its cycles), for the head's per-device accounting.
struct StepStats {
  uint64_t step_id = 0;
  uint32_t micro_batch = 0;
  uint16_t cycle = 0;          // the last cycle this report covers
  uint32_t n_tokens = 0;
  uint64_t compute_ns = 0;     // forward of its windows
  uint64_t wait_ns = 0;        // waiting for the ring within the step
  uint64_t send_ns = 0;        // handing results to the next hop
  uint64_t pagein_ns = 0;      // first touch of weights that were not resident
  uint64_t disk_read_bytes = 0;
  uint64_t resident_bytes = 0;  // of its windows' weights, after the step
  uint64_t anon_bytes = 0;      // memory the OS cannot reclaim (KV cache, buffers)
  uint64_t memory_total = 0;    // the device's RAM as it plans with it
  bool operator==(const StepStats&) const = default;
};

inline size_t wire_type_size(WireType t) { return t == WireType::f16 ? 2 : 4; }

// One micro-batch of hidden states on its way round the ring: [n_tokens, n_embd].
// To send, point `values` at the caller's f32 buffer: the encoder writes it (converted to `dtype`) straight into
// the outgoing frame. A decoded message has `wire` pointing into the received frame (no copy); to_f32() copies
// or converts it into the caller's buffer. Encoding a message with empty `values` re-sends `wire` as it is.
struct Activations {
  uint64_t step_id = 0;      // request / step this batch belongs to
  uint32_t micro_batch = 0;  // index of the micro-batch within the step
  uint16_t cycle = 0;        // 0..k-1
  WireType dtype = WireType::f32;
  uint32_t n_tokens = 0;
  uint32_t n_embd = 0;
  std::vector<int32_t> pos;     // [n_tokens]
  std::vector<int32_t> seq_id;  // [n_tokens]
  std::vector<uint8_t> output;  // [n_tokens], 1 = logits wanted for this token
  std::span<const float> values;  // to encode: [n_tokens, n_embd] f32
  std::span<const uint8_t> wire;  // decoded: [n_tokens, n_embd] of dtype, little-endian

  size_t data_bytes() const { return size_t{n_tokens} * n_embd * wire_type_size(dtype); }
  // Writes the data as f32 into dst ([n_tokens, n_embd]); reads `values` if set, else `wire`.
  void to_f32(std::span<float> dst) const;
};

using Body = std::variant<ErrorMsg, Hello, Ack, Heartbeat, Config, PlanChange, KvOp, ProfileRequest, ProfileReply,
                          Stop, Bye, StepStats, Activations>;

struct Message {
  uint64_t seq = 0;
  uint16_t minor = kVersionMinor;  // decoded: the sender's minor version
  uint16_t flags = 0;
  Body body;

  MsgType type() const;
  template <class T>
  const T* as() const { return std::get_if<T>(&body); }
};

MsgType type_of(const Body& body);

// Encoding trusts its input (the caller built it): inconsistent sizes are a bug and abort.
size_t encoded_size(const Message& msg);
void encode_into(const Message& msg, std::span<uint8_t> out);  // out.size() == encoded_size(msg)
std::vector<uint8_t> encode(const Message& msg);

// Decodes one frame. Errors (Status::Code::protocol) name what is wrong: truncation with the field and offset,
// bad magic, an unsupported version with both versions, an unknown type, an oversized or inconsistent length.
Result<Message> decode(std::span<const uint8_t> frame);

// Reads only the header (for routing and for the version check before a full decode).
struct Header {
  uint32_t magic = 0;
  uint16_t major = 0;
  uint16_t minor = 0;
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t payload_len = 0;
  uint64_t seq = 0;
};
Result<Header> decode_header(std::span<const uint8_t> frame);

// A one-line description for logs: "Activations seq=7 step=3 mb=0 cycle=1 [512 x 8192 f16]".
std::string describe(const Message& msg);

}  // namespace prima::cluster
