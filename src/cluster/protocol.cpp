#include "cluster/protocol.h"

#include <cstring>
#include <new>

#include "cluster/codec_internal.h"
#include "core/bytes.h"

namespace prima::cluster {

namespace {

void write_str16(ByteWriter& w, std::string_view s) {
  PRIMA_ASSERT(s.size() <= kMaxShortString);
  w.write<uint16_t>(static_cast<uint16_t>(s.size()));
  w.bytes(s.data(), s.size());
}
void write_str32(ByteWriter& w, std::string_view s, size_t max) {
  PRIMA_ASSERT(s.size() <= max);
  w.write<uint32_t>(static_cast<uint32_t>(s.size()));
  w.bytes(s.data(), s.size());
}
std::string read_str16(ByteReader& r, std::string_view field) {
  const uint16_t n = r.read<uint16_t>(field);
  if (n > kMaxShortString) fail("{}: {} is {} bytes long, the limit is {}", r.what(), field, n, kMaxShortString);
  return std::string(r.string_view(n, field));
}
std::string read_str32(ByteReader& r, std::string_view field, size_t max) {
  const uint32_t n = r.read<uint32_t>(field);
  if (n > max) fail("{}: {} is {} bytes long, the limit is {}", r.what(), field, n, max);
  return std::string(r.string_view(n, field));
}

void write_payload(ByteWriter& w, const Body& body) {
  std::visit(
      [&w](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, ErrorMsg>) {
          w.write<uint32_t>(static_cast<uint32_t>(m.code));
          w.write<uint64_t>(m.in_reply_to);
          write_str32(w, m.text.size() > kMaxText ? std::string_view(m.text).substr(0, kMaxText) : m.text, kMaxText);
        } else if constexpr (std::is_same_v<T, Hello>) {
          w.write<uint16_t>(m.version_major);
          w.write<uint16_t>(m.version_minor);
          w.write<uint8_t>(static_cast<uint8_t>(m.role));
          w.write<uint8_t>(0);
          w.write<uint64_t>(m.session);
          write_str16(w, m.device_name);
          write_str16(w, m.software_version);
          w.write<uint16_t>(m.listen_port);
          write_str16(w, m.observed_ip);
          w.write<uint64_t>(m.model.size);
          PRIMA_ASSERT(m.model.digest.size() <= kMaxDigest);
          w.write<uint16_t>(static_cast<uint16_t>(m.model.digest.size()));
          w.bytes(m.model.digest.data(), m.model.digest.size());
          PRIMA_ASSERT(m.facts.size() <= kMaxFacts);
          w.write<uint16_t>(static_cast<uint16_t>(m.facts.size()));
          for (const auto& [k, v] : m.facts) {
            write_str16(w, k);
            write_str16(w, v);
          }
        } else if constexpr (std::is_same_v<T, Ack>) {
          w.write<uint64_t>(m.acked_seq);
        } else if constexpr (std::is_same_v<T, Heartbeat>) {
          w.write<uint64_t>(m.session);
          w.write<uint64_t>(m.t_send_ns);
          w.write<uint64_t>(m.t_echo_ns);
          w.write<uint8_t>(m.is_reply ? 1 : 0);
        } else if constexpr (std::is_same_v<T, Config>) {
          write_fields(w, config_to_fields(m));
        } else if constexpr (std::is_same_v<T, PlanChange>) {
          write_fields(w, plan_to_fields(m));
        } else if constexpr (std::is_same_v<T, KvOp>) {
          w.write<uint8_t>(static_cast<uint8_t>(m.op));
          w.write<int32_t>(m.seq);
          w.write<int32_t>(m.seq_dst);
          w.write<int32_t>(m.p0);
          w.write<int32_t>(m.p1);
        } else if constexpr (std::is_same_v<T, ProfileRequest> || std::is_same_v<T, ProfileReply>) {
          write_str32(w, m.json, kMaxJson);
        } else if constexpr (std::is_same_v<T, Stop> || std::is_same_v<T, Bye>) {
          write_str16(w, m.reason);
        } else if constexpr (std::is_same_v<T, StepStats>) {
          w.write<uint64_t>(m.step_id);
          w.write<uint32_t>(m.micro_batch);
          w.write<uint16_t>(m.cycle);
          w.write<uint16_t>(0);
          w.write<uint32_t>(m.n_tokens);
          for (uint64_t v : {m.compute_ns, m.wait_ns, m.send_ns, m.pagein_ns, m.disk_read_bytes, m.resident_bytes,
                             m.anon_bytes, m.memory_total})
            w.write<uint64_t>(v);
        } else {
          static_assert(std::is_same_v<T, Activations>);
          PRIMA_ASSERT(false && "activations are encoded directly");
        }
      },
      body);
}

Hello read_hello(ByteReader& r) {
  Hello h;
  h.version_major = r.read<uint16_t>("version_major");
  h.version_minor = r.read<uint16_t>("version_minor");
  const uint8_t role = r.read<uint8_t>("role");
  if (role != 1 && role != 2) fail("{}: role {} is neither 1 (head) nor 2 (worker)", r.what(), role);
  h.role = static_cast<Role>(role);
  (void)r.read<uint8_t>("reserved");
  h.session = r.read<uint64_t>("session");
  h.device_name = read_str16(r, "device_name");
  h.software_version = read_str16(r, "software_version");
  h.listen_port = r.read<uint16_t>("listen_port");
  h.observed_ip = read_str16(r, "observed_ip");
  h.model.size = r.read<uint64_t>("model_size");
  const uint16_t nd = r.read<uint16_t>("digest length");
  if (nd > kMaxDigest) fail("{}: model digest of {} bytes exceeds {}", r.what(), nd, kMaxDigest);
  auto digest = r.bytes(nd, "digest");
  h.model.digest.assign(digest.begin(), digest.end());
  const uint16_t nf = r.read<uint16_t>("fact count");
  if (nf > kMaxFacts) fail("{}: {} device facts exceed {}", r.what(), nf, kMaxFacts);
  if (size_t{nf} * 4 > r.remaining()) fail("{}: claims {} facts but only {} bytes follow", r.what(), nf, r.remaining());
  h.facts.reserve(nf);
  for (uint16_t i = 0; i < nf; ++i) {
    std::string k = read_str16(r, "fact key");
    std::string v = read_str16(r, "fact value");
    h.facts.emplace_back(std::move(k), std::move(v));
  }
  return h;
}

KvOp read_kv_op(ByteReader& r) {
  KvOp k;
  const uint8_t op = r.read<uint8_t>("op");
  if (op < 1 || op > 4) fail("{}: unknown KV operation {} (1 clear, 2 remove, 3 copy, 4 keep)", r.what(), op);
  k.op = static_cast<KvOpKind>(op);
  k.seq = r.read<int32_t>("seq");
  k.seq_dst = r.read<int32_t>("seq_dst");
  k.p0 = r.read<int32_t>("p0");
  k.p1 = r.read<int32_t>("p1");
  if ((k.op == KvOpKind::copy || k.op == KvOpKind::keep) && k.seq < 0)
    fail("{}: {} needs a sequence >= 0, got {}", r.what(), k.op == KvOpKind::copy ? "copy" : "keep", k.seq);
  if (k.op == KvOpKind::copy && k.seq_dst < 0) fail("{}: copy needs a destination >= 0, got {}", r.what(), k.seq_dst);
  if (k.p0 < 0) fail("{}: p0 = {} is negative", r.what(), k.p0);
  if (k.p1 >= 0 && k.p1 < k.p0) fail("{}: empty range [{}, {})", r.what(), k.p0, k.p1);
  return k;
}

Body read_payload(MsgType type, ByteReader& r) {
  switch (type) {
    case MsgType::error: {
      ErrorMsg e;
      e.code = static_cast<ErrorCode>(r.read<uint32_t>("code"));
      e.in_reply_to = r.read<uint64_t>("in_reply_to");
      e.text = read_str32(r, "text", kMaxText);
      return e;
    }
    case MsgType::hello: return read_hello(r);
    case MsgType::ack: return Ack{r.read<uint64_t>("acked_seq")};
    case MsgType::heartbeat: {
      Heartbeat h;
      h.session = r.read<uint64_t>("session");
      h.t_send_ns = r.read<uint64_t>("t_send_ns");
      h.t_echo_ns = r.read<uint64_t>("t_echo_ns");
      const uint8_t reply = r.read<uint8_t>("is_reply");
      if (reply > 1) fail("{}: is_reply = {}, expected 0 or 1", r.what(), reply);
      h.is_reply = reply == 1;
      return h;
    }
    case MsgType::config: return config_from_fields(read_fields(r, "config"));
    case MsgType::plan_change: return plan_from_fields(read_fields(r, "plan change"));
    case MsgType::kv_op: return read_kv_op(r);
    case MsgType::profile_request: return ProfileRequest{read_str32(r, "json", kMaxJson)};
    case MsgType::profile_reply: return ProfileReply{read_str32(r, "json", kMaxJson)};
    case MsgType::stop: return Stop{read_str16(r, "reason")};
    case MsgType::bye: return Bye{read_str16(r, "reason")};
    case MsgType::step_stats: {
      StepStats s;
      s.step_id = r.read<uint64_t>("step_id");
      s.micro_batch = r.read<uint32_t>("micro_batch");
      s.cycle = r.read<uint16_t>("cycle");
      (void)r.read<uint16_t>("reserved");
      s.n_tokens = r.read<uint32_t>("n_tokens");
      s.compute_ns = r.read<uint64_t>("compute_ns");
      s.wait_ns = r.read<uint64_t>("wait_ns");
      s.send_ns = r.read<uint64_t>("send_ns");
      s.pagein_ns = r.read<uint64_t>("pagein_ns");
      s.disk_read_bytes = r.read<uint64_t>("disk_read_bytes");
      s.resident_bytes = r.read<uint64_t>("resident_bytes");
      s.anon_bytes = r.read<uint64_t>("anon_bytes");
      s.memory_total = r.read<uint64_t>("memory_total");
      return s;
    }
    case MsgType::activations: return detail::read_activations(r);
  }
  PRIMA_ASSERT(false);
}

bool known_type(uint16_t t) {
  return (t >= static_cast<uint16_t>(MsgType::error) && t <= static_cast<uint16_t>(MsgType::step_stats)) ||
         t == static_cast<uint16_t>(MsgType::activations);
}

}  // namespace

namespace detail {

void write_header(uint8_t* out, MsgType type, uint16_t flags, uint32_t payload_len, uint64_t seq) {
  const uint32_t magic = kMagic;
  const uint16_t major = kVersionMajor, minor = kVersionMinor, t = static_cast<uint16_t>(type);
  std::memcpy(out + 0, &magic, 4);
  std::memcpy(out + 4, &major, 2);
  std::memcpy(out + 6, &minor, 2);
  std::memcpy(out + 8, &t, 2);
  std::memcpy(out + 10, &flags, 2);
  std::memcpy(out + 12, &payload_len, 4);
  std::memcpy(out + 16, &seq, 8);
}

}  // namespace detail

std::string_view msg_type_name(MsgType t) {
  switch (t) {
    case MsgType::error: return "Error";
    case MsgType::hello: return "Hello";
    case MsgType::ack: return "Ack";
    case MsgType::heartbeat: return "Heartbeat";
    case MsgType::config: return "Config";
    case MsgType::plan_change: return "PlanChange";
    case MsgType::kv_op: return "KvOp";
    case MsgType::profile_request: return "ProfileRequest";
    case MsgType::profile_reply: return "ProfileReply";
    case MsgType::stop: return "Stop";
    case MsgType::bye: return "Bye";
    case MsgType::step_stats: return "StepStats";
    case MsgType::activations: return "Activations";
  }
  return "unknown";
}

std::string_view error_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::unknown: return "unknown";
    case ErrorCode::protocol: return "protocol";
    case ErrorCode::version: return "version";
    case ErrorCode::mismatch: return "mismatch";
    case ErrorCode::busy: return "busy";
    case ErrorCode::invalid: return "invalid";
    case ErrorCode::internal: return "internal";
    case ErrorCode::stopped: return "stopped";
  }
  return "unknown";
}

std::string_view role_name(Role r) { return r == Role::head ? "head" : "worker"; }

MsgType type_of(const Body& body) {
  static constexpr MsgType kTypes[] = {MsgType::error, MsgType::hello, MsgType::ack, MsgType::heartbeat,
                                       MsgType::config, MsgType::plan_change, MsgType::kv_op,
                                       MsgType::profile_request, MsgType::profile_reply, MsgType::stop,
                                       MsgType::bye, MsgType::step_stats, MsgType::activations};
  static_assert(std::size(kTypes) == std::variant_size_v<Body>);
  return kTypes[body.index()];
}

MsgType Message::type() const { return type_of(body); }

size_t encoded_size(const Message& msg) {
  if (const auto* a = msg.as<Activations>()) return kHeaderSize + detail::activations_payload_size(*a);
  return encode(msg).size();
}

void encode_into(const Message& msg, std::span<uint8_t> out) {
  if (const auto* a = msg.as<Activations>()) {
    const size_t payload = detail::activations_payload_size(*a);
    PRIMA_ASSERT(out.size() == kHeaderSize + payload);
    detail::write_header(out.data(), MsgType::activations, msg.flags, static_cast<uint32_t>(payload), msg.seq);
    detail::write_activations(*a, out.data() + kHeaderSize, kHeaderSize);
    return;
  }
  const auto bytes = encode(msg);
  PRIMA_ASSERT(out.size() == bytes.size());
  std::memcpy(out.data(), bytes.data(), bytes.size());
}

std::vector<uint8_t> encode(const Message& msg) {
  if (msg.as<Activations>()) {
    std::vector<uint8_t> out(encoded_size(msg));
    encode_into(msg, out);
    return out;
  }
  ByteWriter w;
  w.zeros(kHeaderSize);
  write_payload(w, msg.body);
  const size_t payload = w.size() - kHeaderSize;
  PRIMA_ASSERT(payload <= kMaxPayload);
  detail::write_header(w.buffer().data(), msg.type(), msg.flags, static_cast<uint32_t>(payload), msg.seq);
  return w.take();
}

Result<Header> decode_header(std::span<const uint8_t> frame) {
  Header h;
  if (frame.size() >= 4) std::memcpy(&h.magic, frame.data(), 4);
  if (frame.size() >= 4 && h.magic != kMagic)
    return Status::error(Status::Code::protocol, "not a prima message: magic is 0x{:08x}, expected 0x{:08x} (\"PRIM\")",
                         h.magic, kMagic);
  if (frame.size() < kHeaderSize)
    return Status::error(Status::Code::protocol, "truncated message: {} bytes, the header alone is {}", frame.size(),
                         kHeaderSize);
  std::memcpy(&h.major, frame.data() + 4, 2);
  std::memcpy(&h.minor, frame.data() + 6, 2);
  std::memcpy(&h.type, frame.data() + 8, 2);
  std::memcpy(&h.flags, frame.data() + 10, 2);
  std::memcpy(&h.payload_len, frame.data() + 12, 4);
  std::memcpy(&h.seq, frame.data() + 16, 8);
  return h;
}

Result<Message> decode(std::span<const uint8_t> frame) {
  auto hr = decode_header(frame);
  if (!hr) return hr.status();
  const Header& h = *hr;
  // Error messages are readable across majors (their layout is frozen), so a peer's complaint always gets through.
  if (h.major != kVersionMajor && h.type != static_cast<uint16_t>(MsgType::error))
    return Status::error(Status::Code::protocol,
                         "protocol version {}.{} is not supported: this build speaks version {}.{}", h.major, h.minor,
                         kVersionMajor, kVersionMinor);
  if (!known_type(h.type))
    return Status::error(Status::Code::protocol, "unknown message type {} (protocol {}.{})", h.type, h.major, h.minor);
  const auto type = static_cast<MsgType>(h.type);
  if (h.payload_len > kMaxPayload)
    return Status::error(Status::Code::protocol, "{} message: payload length {} exceeds the limit of {} bytes",
                         msg_type_name(type), h.payload_len, kMaxPayload);
  if (frame.size() - kHeaderSize != h.payload_len)
    return Status::error(Status::Code::protocol, "{} message: header says {} payload bytes but {} arrived ({})",
                         msg_type_name(type), h.payload_len, frame.size() - kHeaderSize,
                         frame.size() - kHeaderSize < h.payload_len ? "truncated" : "trailing garbage");
  try {
    ByteReader r(frame, fmt::format("{} message", msg_type_name(type)));
    r.seek(kHeaderSize, "payload");
    Message m;
    m.seq = h.seq;
    m.minor = h.minor;
    m.flags = h.flags;
    m.body = read_payload(type, r);
    const bool newer = h.major > kVersionMajor || (h.major == kVersionMajor && h.minor > kVersionMinor);
    if (r.remaining() != 0 && !newer)
      return Status::error(Status::Code::protocol,
                           "{} message: {} unexpected bytes after the last field at offset {} (sender speaks {}.{})",
                           msg_type_name(type), r.remaining(), r.offset(), h.major, h.minor);
    return m;
  } catch (const Error& e) {
    return Status::error(Status::Code::protocol, e.what());
  } catch (const std::bad_alloc&) {
    return Status::error(Status::Code::protocol, "{} message: out of memory while decoding", msg_type_name(type));
  } catch (const std::exception& e) {  // not expected: decode must never throw out, whatever the input
    return Status::error(Status::Code::protocol, "{} message: {}", msg_type_name(type), e.what());
  }
}

std::string describe(const Message& msg) {
  std::string s = fmt::format("{} seq={}", msg_type_name(msg.type()), msg.seq);
  if (const auto* a = msg.as<Activations>())
    s += fmt::format(" step={} mb={} cycle={} [{} x {} {}]", a->step_id, a->micro_batch, a->cycle, a->n_tokens,
                     a->n_embd, wire_type_name(a->dtype));
  else if (const auto* e = msg.as<ErrorMsg>())
    s += fmt::format(" {}: {}", error_code_name(e->code), e->text);
  else if (const auto* k = msg.as<KvOp>())
    s += fmt::format(" op={} seq={} dst={} [{}, {})", static_cast<int>(k->op), k->seq, k->seq_dst, k->p0, k->p1);
  return s;
}

}  // namespace prima::cluster
