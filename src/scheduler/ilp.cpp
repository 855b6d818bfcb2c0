#include "scheduler/ilp.h"

#include <glpk.h>

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <vector>

#include "core/error.h"

namespace prima::scheduler {
namespace {

constexpr double kGB = 1e9;  // memory rows are scaled to GB so every coefficient is O(1)..O(1e3)

// A thin builder over GLPK's 1-based triplet arrays.
class Problem {
 public:
  Problem() : lp_(glp_create_prob(), glp_delete_prob) { glp_set_obj_dir(lp_.get(), GLP_MIN); }

  int col(int kind, double lo, double hi, double cost) {
    const int j = glp_add_cols(lp_.get(), 1);
    glp_set_col_kind(lp_.get(), j, kind);
    glp_set_col_bnds(lp_.get(), j, hi == lo ? GLP_FX : (std::isinf(hi) ? GLP_LO : GLP_DB), lo, std::isinf(hi) ? 0 : hi);
    glp_set_obj_coef(lp_.get(), j, cost);
    return j;
  }
  // Adds  sum coef * col  (>= lo | <= hi | == both)  with the given terms.
  void row(std::initializer_list<std::pair<int, double>> terms, double lo, double hi) {
    row(std::vector(terms), lo, hi);
  }
  void row(const std::vector<std::pair<int, double>>& terms, double lo, double hi) {
    const int i = glp_add_rows(lp_.get(), 1);
    const int type = lo == hi ? GLP_FX : std::isinf(hi) ? GLP_LO : std::isinf(lo) ? GLP_UP : GLP_DB;
    glp_set_row_bnds(lp_.get(), i, type, std::isinf(lo) ? 0 : lo, std::isinf(hi) ? 0 : hi);
    // GLPK aborts the process on a repeated column in a row: merge them.
    std::map<int, double> merged;
    for (const auto& [j, v] : terms) merged[j] += v;
    for (const auto& [j, v] : merged) {
      if (v == 0) continue;
      ia_.push_back(i);
      ja_.push_back(j);
      ar_.push_back(v);
    }
  }
  glp_prob* get() {
    glp_load_matrix(lp_.get(), static_cast<int>(ia_.size()) - 1, ia_.data(), ja_.data(), ar_.data());
    return lp_.get();
  }

 private:
  std::unique_ptr<glp_prob, decltype(&glp_delete_prob)> lp_;
  std::vector<int> ia_{0}, ja_{0};
  std::vector<double> ar_{0.0};
};

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

IlpSolution solve_ilp(const CostModel& cm, std::span<const int> selected, int k, double time_limit_ms) {
  PRIMA_ASSERT(k >= 1 && cm.n_layer % k == 0);
  const int W = cm.n_layer / k;
  PRIMA_ASSERT(!selected.empty() && static_cast<int>(selected.size()) <= W);
  const bool ring = selected.size() > 1;

  Problem p;
  const int T = p.col(GLP_CV, 0, kInf, 1.0);
  struct Cols {
    int w = 0, n = 0, p = 0, d = 0, i = 0;
  };
  std::vector<Cols> cols(selected.size());
  std::vector<std::pair<int, double>> ring_row{{T, 1.0}}, sum_row;
  double ring_rhs = 0;

  for (size_t s = 0; s < selected.size(); ++s) {
    const int m = selected[s];
    const DeviceCoeffs& c = cm.devices[static_cast<size_t>(m)];
    const bool head = m == cm.head;
    Cols& x = cols[s];
    x.w = p.col(GLP_IV, 1, W, 0);
    sum_row.emplace_back(x.w, 1.0);
    if (c.gpu) {
      x.n = p.col(GLP_IV, 0, W, 0);
      p.row({{x.n, 1.0}, {x.w, -1.0}}, -kInf, 0);  // n <= w
      // k n (b + kv) + f_gpu <= V
      p.row({{x.n, k * (c.layer_bytes + c.kv_bytes) / kGB}}, -kInf, (c.vram_bytes - c.gpu_fixed_bytes) / kGB);
    }
    // Terms in (w - n): a column pair with opposite signs for n when there is a GPU.
    auto cpu_layers = [&](double coef) {
      std::vector<std::pair<int, double>> t{{x.w, coef}};
      if (x.n) t.emplace_back(x.n, -coef);
      return t;
    };
    auto with = [](std::vector<std::pair<int, double>> t, int col, double coef) {
      t.emplace_back(col, coef);
      return t;
    };
    const double a = c.cpu_compute_ms + c.cpu_memory_ms, g = c.gpu_compute_ms + c.gpu_memory_ms;
    const double out = head ? c.head_compute_ms + c.head_memory_ms : 0;

    std::vector<std::pair<int, double>> busy = cpu_layers(-k * a);
    busy.emplace_back(T, 1.0);
    if (x.n) busy.emplace_back(x.n, -k * g);
    for (const auto& [j, v] : cpu_layers(-k * a)) ring_row.emplace_back(j, v);
    if (x.n) ring_row.emplace_back(x.n, -k * g);

    const double b = c.layer_bytes, kv = c.kv_bytes, e = c.extra_bytes, f = c.fixed_bytes, A = c.avail_bytes;
    if (c.disk_bytes_per_ms > 0) {
      const double s_ms = c.disk_bytes_per_ms;
      x.p = p.col(GLP_CV, 0, kInf, 0);  // pinned bytes, GB
      x.d = p.col(GLP_CV, 0, kInf, 0);
      x.i = p.col(GLP_CV, 0, kInf, 0);
      // pinned <= C = A - k (w - n) kv - f     (this also keeps C >= 0: the KV cache and buffers fit)
      p.row(with(cpu_layers(k * kv / kGB), x.p, 1.0), -kInf, (A - f) / kGB);
      // pinned <= R = k (w - n) b + e
      p.row(with(cpu_layers(-k * b / kGB), x.p, 1.0), -kInf, e / kGB);
      // d >= (R - pinned) / s
      p.row(with(with(cpu_layers(-k * b / s_ms), x.p, kGB / s_ms), x.d, 1.0), e / s_ms, kInf);
      if (cm.overlap_disk) {
        // i >= (R - pinned - k (C - pinned)) / s = (k (w - n)(b + k kv) + e - k (A - f) + (k - 1) pinned) / s
        p.row(with(with(cpu_layers(-k * (b + k * kv) / s_ms), x.p, -(k - 1) * kGB / s_ms), x.i, 1.0),
              (e - k * (A - f)) / s_ms, kInf);
      } else {
        p.row({{x.i, 1.0}, {x.d, -1.0}}, 0, kInf);
      }
      busy.emplace_back(x.d, -1.0);
      ring_row.emplace_back(x.i, -1.0);
    } else {
      // Cannot stream: every weight it touches stays resident. k (w - n)(b + kv) + e + f <= A
      p.row(cpu_layers(k * (b + kv) / kGB), -kInf, (A - e - f) / kGB);
    }
    p.row(busy, out, kInf);  // T >= own work per token
    ring_rhs += out + (ring ? k * c.hop_ms : 0);
  }
  p.row(sum_row, W, W);
  p.row(ring_row, ring_rhs, kInf);

  glp_prob* lp = p.get();
  glp_iocp parm;
  glp_init_iocp(&parm);
  parm.presolve = GLP_ON;
  parm.msg_lev = GLP_MSG_OFF;
  parm.mip_gap = 1e-6;
  parm.tm_lim = std::max(1, static_cast<int>(time_limit_ms));
  const int ret = glp_intopt(lp, &parm);

  IlpSolution sol;
  const int status = glp_mip_status(lp);
  if ((ret != 0 && ret != GLP_ETMLIM && ret != GLP_EMIPGAP) || (status != GLP_OPT && status != GLP_FEAS)) return sol;
  sol.feasible = true;
  sol.optimal = status == GLP_OPT;
  sol.objective_ms = glp_mip_obj_val(lp);
  sol.windows.assign(cm.devices.size(), 0);
  sol.gpu_layers.assign(cm.devices.size(), 0);
  for (size_t s = 0; s < selected.size(); ++s) {
    const auto m = static_cast<size_t>(selected[s]);
    sol.windows[m] = static_cast<int>(std::lround(glp_mip_col_val(lp, cols[s].w)));
    if (cols[s].n) sol.gpu_layers[m] = static_cast<int>(std::lround(glp_mip_col_val(lp, cols[s].n)));
  }
  return sol;
}

}  // namespace prima::scheduler
