// The tiny real model (stories260K, F32) with a LocalEngine, for in-process scheduler and conversation tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/log.h"
#include "model/model.h"
#include "runtime/local_engine.h"
#include "tokenizer/tokenizer.h"

namespace prima::test {

inline const std::string kStories = std::string(PRIMA_FIXTURES_DIR) + "/models/stories260K-F32.gguf";

struct TinyModel {
  std::unique_ptr<model::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tok;

  static const TinyModel& get() {
    static const TinyModel m = [] {
      log::set_level(log::Level::error);  // contexts beyond the 128 trained positions are fine here
      TinyModel t;
      t.model = model::Model::open(kStories);
      t.tok = tokenizer::Tokenizer::from_gguf(t.model->file());
      return t;
    }();
    return m;
  }

  std::unique_ptr<runtime::LocalEngine> engine(int32_t n_seq, int32_t n_ctx = 256, int32_t n_ubatch = 512) const {
    runtime::LocalOptions o;
    o.n_ctx = n_ctx;
    o.n_seq = n_seq;
    o.n_ubatch = n_ubatch;
    o.n_threads = 2;
    return std::make_unique<runtime::LocalEngine>(*model, o);
  }
};

}  // namespace prima::test
