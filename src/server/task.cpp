#include "server/task.h"

namespace prima::server {

bool Task::wait(Progress& out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return done_ || !text_.empty(); });
  const bool news = !text_.empty() || (done_ && !out.done);
  out.text += text_;
  text_.clear();
  out.n_tokens = n_tokens_;
  if (done_) {
    out.done = true;
    out.finish_reason = finish_reason_;
    out.error = error_;
    out.usage = usage_;
  }
  return news;
}

void Task::emit(std::string_view text, int32_t n_tokens) {
  {
    std::lock_guard lock(mu_);
    text_.append(text);
    n_tokens_ = n_tokens;
  }
  if (!text.empty()) cv_.notify_all();
}

void Task::finish(std::string finish_reason, const Usage& usage) {
  {
    std::lock_guard lock(mu_);
    done_ = true;
    finish_reason_ = std::move(finish_reason);
    usage_ = usage;
    n_tokens_ = usage.completion_tokens;
  }
  cv_.notify_all();
}

void Task::fail(std::string error, const Usage& usage) {
  {
    std::lock_guard lock(mu_);
    done_ = true;
    error_ = std::move(error);
    usage_ = usage;
  }
  cv_.notify_all();
}

}  // namespace prima::server
