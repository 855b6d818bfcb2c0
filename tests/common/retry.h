// Retrying a test body that checks the page cache exactly, on machines that reclaim pages behind our back.
//
// Why: the VMs we test on (CI and development) run DAMON proactive reclaim, a kdamond with action pageout on
// cold unmapped page cache. It pages out a few pages of a test's file now and then, also pages read a moment
// ago, so a check like "all 8 MiB are resident" failed about once in a hundred runs under ctest -j8 (traced:
// mm_filemap_delete_from_page_cache from kdamond_fn, damon_pa_apply_scheme, reclaim_pages). Such reclaim is
// the kernel's right; a test of our own page-cache handling runs its body again on a fresh file instead.
//
// A real bug fails every attempt. The last attempt's failures are reported as the test's; earlier ones are
// printed. A skip in the body (GTEST_SKIP) skips the test.
#pragma once

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <iostream>

namespace prima::test {

// Runs body() until it passes, at most `attempts` times, calling before_retry() between attempts.
template <class Body, class BeforeRetry>
void with_retries(int attempts, Body body, BeforeRetry before_retry) {
  for (int attempt = 1;; ++attempt) {
    ::testing::TestPartResultArray results;
    {
      const ::testing::ScopedFakeTestPartResultReporter intercept(
          ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
      body();
    }
    int n_failed = 0;
    for (int i = 0; i < results.size(); ++i) n_failed += results.GetTestPartResult(i).failed() ? 1 : 0;
    const bool last = attempt >= attempts;
    for (int i = 0; i < results.size(); ++i) {
      const ::testing::TestPartResult& r = results.GetTestPartResult(i);
      const char* file = r.file_name() != nullptr ? r.file_name() : "?";
      if (n_failed == 0 && r.skipped()) GTEST_SKIP() << r.message();
      if (!r.failed()) continue;
      if (last) {
        ADD_FAILURE_AT(file, r.line_number()) << r.message();
      } else {
        std::cout << "attempt " << attempt << " of " << attempts << " failed at " << file << ":" << r.line_number()
                  << ": " << r.message() << "\n";
      }
    }
    if (n_failed == 0 || last) return;
    before_retry();
  }
}

template <class Body>
void with_retries(int attempts, Body body) {
  with_retries(attempts, body, [] {});
}

}  // namespace prima::test
