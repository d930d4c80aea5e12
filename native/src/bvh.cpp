#include "bvh.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <new>
#include <type_traits>

#include "thread_pool.h"

namespace optica {
namespace {

constexpr int kBins = 16;
constexpr uint32_t kMaxLeaf = 12;      // SAH may stop at up to this many primitives (3 Tri4 blocks)
constexpr uint32_t kForcedLeaf = 16;   // degenerate centroids: give up splitting here

// The SAH bin of a centroid coordinate, always inside [0, kBins). A centroid extent past the
// float range makes `scale` 0 and `c - lo` infinite: NaN, whose int conversion is undefined
// (INT_MIN on x86) and indexed the bins out of bounds.
inline int bin_index(float c, float lo, float scale) {
  float f = (c - lo) * scale;
  if (!(f > 0.0f)) return 0;
  return f >= float(kBins - 1) ? kBins - 1 : int(f);
}
constexpr float kTraversalCost = 4.0f; // relative to one triangle test: leaves test four at once (Tri4), so larger leaves pay (measured with bench/traversal.py)

struct BinaryNode {
  Aabb box;
  uint32_t left = 0;               // inner: children are left, left + 1
  uint32_t first = 0, count = 0;   // leaf: prims idx[first, first + count); count == 0: inner
};

static_assert(std::is_trivially_destructible<BinaryNode>::value, "nodes are released without destructors");

struct Pending {
  uint32_t node, begin, end;
};

class Builder {
 public:
  Builder(const std::vector<Aabb> &prims, float primitive_cost) : prims_(prims), primitive_cost_(primitive_cost) {
    size_t n = prims.size();
    centers_.resize(n);
    idx_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      centers_[i] = prims[i].center();
      idx_[i] = uint32_t(i);
    }
    // Room for the most nodes a build can make (2n - 1), constructed only as they are made:
    // leaves hold several primitives, so most of it is never touched (never resident), where
    // constructing all of it cost 36 bytes per primitive of memory during every build.
    size_t capacity = std::max<size_t>(1, 2 * n);
    nodes_.reset(static_cast<BinaryNode *>(::operator new(capacity * sizeof(BinaryNode))));
    new (&nodes_[0]) BinaryNode();
  }

  void build(ThreadPool &pool) {
    pool_ = &pool;
    uint32_t n = uint32_t(idx_.size());
    next_node_ = 1;
    std::vector<Pending> pending;
    // Split serially until there is enough independent work for every thread.
    uint32_t threshold = std::max<uint32_t>(4096, n / uint32_t(8 * pool.size()));
    split_recursive(0, 0, n, &pending, threshold);
    pool.parallel_for(int64_t(pending.size()), [&](int64_t i, int) {
      split_recursive(pending[i].node, pending[i].begin, pending[i].end, nullptr, 0);
    });
  }

  Bvh finish() {
    Bvh bvh;
    bvh.prim_order = std::move(idx_);  // the builder is done with it
    bvh.bounds = nodes_[0].box;
    bvh.nodes.reserve(next_node_ / 2 + 1);
    if (nodes_[0].count > 0 || bvh.prim_order.empty()) {
      bvh.nodes.push_back(empty_node());
      if (!bvh.prim_order.empty()) set_child(bvh.nodes[0], 0, nodes_[0], 0);
    } else {
      collapse(0, bvh.nodes);
    }
    return bvh;
  }

 private:
  static Bvh4Node empty_node() {
    Bvh4Node n;
    for (int i = 0; i < 4; ++i) {
      n.lo_x[i] = n.lo_y[i] = n.lo_z[i] = kInf;
      n.hi_x[i] = n.hi_y[i] = n.hi_z[i] = -kInf;
      // An empty leaf, not a reference to node 0: a ray whose slab distances are NaN (an origin
      // near the float range's end) may "hit" any slot, and must find nothing there, not the root.
      n.child[i] = ~int32_t(0);
      n.count[i] = 0;
    }
    return n;
  }
  static void set_child(Bvh4Node &n, int slot, const BinaryNode &c, int32_t ref) {
    n.lo_x[slot] = c.box.lo.x; n.lo_y[slot] = c.box.lo.y; n.lo_z[slot] = c.box.lo.z;
    n.hi_x[slot] = c.box.hi.x; n.hi_y[slot] = c.box.hi.y; n.hi_z[slot] = c.box.hi.z;
    if (c.count > 0) { n.child[slot] = ~int32_t(c.first); n.count[slot] = c.count; }
    else { n.child[slot] = ref; n.count[slot] = 0; }
  }

  // Pulls grandchildren up until a node has four children (largest boxes opened first).
  int32_t collapse(uint32_t bi, std::vector<Bvh4Node> &out) {
    uint32_t kids[4] = {nodes_[bi].left, nodes_[bi].left + 1, 0, 0};
    int nk = 2;
    while (nk < 4) {
      int best = -1;
      float best_area = -1.0f;
      for (int i = 0; i < nk; ++i) {
        const BinaryNode &c = nodes_[kids[i]];
        if (c.count == 0 && c.box.area() > best_area) { best = i; best_area = c.box.area(); }
      }
      if (best < 0) break;
      uint32_t l = nodes_[kids[best]].left;
      kids[best] = l;
      kids[nk++] = l + 1;
    }
    int32_t me = int32_t(out.size());
    out.push_back(empty_node());
    for (int i = 0; i < nk; ++i) {
      const BinaryNode &c = nodes_[kids[i]];
      int32_t ref = c.count > 0 ? 0 : collapse(kids[i], out);
      set_child(out[me], i, c, ref);
    }
    return me;
  }

  void make_leaf(BinaryNode &node, uint32_t begin, uint32_t end) {
    node.first = begin;
    node.count = end - begin;
  }

  // Bounds and per-axis SAH bins of a range. Large ranges (the top levels, built before
  // there is one subtree per thread) are binned in parallel chunks and merged.
  struct Binning {
    Aabb box, cbox;
    Aabb boxes[3][kBins];
    uint32_t counts[3][kBins] = {};
  };

  void bin_range(uint32_t begin, uint32_t end, const Aabb &cbox, Binning &out) const {
    float lo[3], scale[3];
    for (int a = 0; a < 3; ++a) {
      lo[a] = cbox.lo[a];
      float ext = cbox.hi[a] - lo[a];
      scale[a] = ext > 0.0f ? kBins / ext : 0.0f;
    }
    for (uint32_t i = begin; i < end; ++i) {
      uint32_t p = idx_[i];
      for (int a = 0; a < 3; ++a) {
        int b = bin_index(centers_[p][a], lo[a], scale[a]);
        out.counts[a][b]++;
        out.boxes[a][b].grow(prims_[p]);
      }
    }
  }

  void bound_range(uint32_t begin, uint32_t end, Aabb &box, Aabb &cbox) const {
    for (uint32_t i = begin; i < end; ++i) {
      box.grow(prims_[idx_[i]]);
      cbox.grow(centers_[idx_[i]]);
    }
  }

  Binning bin(uint32_t begin, uint32_t end, ThreadPool *pool) const {
    Binning r;
    uint32_t n = end - begin;
    constexpr uint32_t kChunk = 1 << 15;
    if (!pool || n < 2 * kChunk) {
      bound_range(begin, end, r.box, r.cbox);
      bin_range(begin, end, r.cbox, r);
      return r;
    }
    uint32_t chunks = (n + kChunk - 1) / kChunk;
    std::vector<Binning> part(chunks);
    pool->parallel_for(chunks, [&](int64_t c, int) {
      uint32_t b = begin + uint32_t(c) * kChunk, e = std::min(end, b + kChunk);
      bound_range(b, e, part[c].box, part[c].cbox);
    });
    for (auto &p : part) { r.box.grow(p.box); r.cbox.grow(p.cbox); }
    pool->parallel_for(chunks, [&](int64_t c, int) {
      uint32_t b = begin + uint32_t(c) * kChunk, e = std::min(end, b + kChunk);
      bin_range(b, e, r.cbox, part[c]);
    });
    for (auto &p : part)
      for (int a = 0; a < 3; ++a)
        for (int k = 0; k < kBins; ++k) {
          r.counts[a][k] += p.counts[a][k];
          r.boxes[a][k].grow(p.boxes[a][k]);
        }
    return r;
  }

  void split_recursive(uint32_t ni, uint32_t begin, uint32_t end, std::vector<Pending> *pending,
                       uint32_t threshold) {
    BinaryNode &node = nodes_[ni];
    uint32_t n = end - begin;
    Binning bins = bin(begin, end, pending ? pool_ : nullptr);
    node.box = bins.box;
    const Aabb &cbox = bins.cbox;
    if (n <= 1) { make_leaf(node, begin, end); return; }

    // Binned SAH over all three axes.
    float best_cost = kInf;
    int best_axis = -1, best_bin = 0;
    for (int axis = 0; axis < 3; ++axis) {
      if (!(cbox.hi[axis] - cbox.lo[axis] > 0.0f)) continue;
      const Aabb *boxes = bins.boxes[axis];
      const uint32_t *counts = bins.counts[axis];
      float right_area[kBins];
      uint32_t right_count[kBins];
      Aabb acc;
      uint32_t cnt = 0;
      for (int b = kBins - 1; b > 0; --b) {
        acc.grow(boxes[b]);
        cnt += counts[b];
        right_area[b] = acc.area();
        right_count[b] = cnt;
      }
      acc = Aabb();
      cnt = 0;
      for (int b = 1; b < kBins; ++b) {
        acc.grow(boxes[b - 1]);
        cnt += counts[b - 1];
        if (cnt == 0 || right_count[b] == 0) continue;
        float cost = acc.area() * cnt + right_area[b] * right_count[b];
        if (cost < best_cost) { best_cost = cost; best_axis = axis; best_bin = b; }
      }
    }

    float node_area = node.box.area();
    float split_cost =
        best_axis >= 0 && node_area > 0.0f ? kTraversalCost + primitive_cost_ * best_cost / node_area : kInf;
    if (n <= kMaxLeaf && primitive_cost_ * float(n) <= split_cost) { make_leaf(node, begin, end); return; }

    uint32_t mid;
    if (best_axis < 0) {
      // Every centroid coincides: split by count, unless the leaf is small enough.
      if (n <= kForcedLeaf) { make_leaf(node, begin, end); return; }
      mid = begin + n / 2;
    } else {
      float lo = cbox.lo[best_axis], scale = kBins / (cbox.hi[best_axis] - lo);
      auto it = std::partition(idx_.begin() + begin, idx_.begin() + end, [&](uint32_t p) {
        return bin_index(centers_[p][best_axis], lo, scale) < best_bin;
      });
      mid = uint32_t(it - idx_.begin());
      if (mid == begin || mid == end) mid = begin + n / 2;  // float rounding at bin edges
    }

    uint32_t left = next_node_.fetch_add(2, std::memory_order_relaxed);
    new (&nodes_[left]) BinaryNode();
    new (&nodes_[left + 1]) BinaryNode();
    node.left = left;
    node.count = 0;
    for (uint32_t c = 0; c < 2; ++c) {
      uint32_t b = c == 0 ? begin : mid, e = c == 0 ? mid : end;
      if (pending && e - b <= threshold) pending->push_back({left + c, b, e});
      else split_recursive(left + c, b, e, pending, threshold);
    }
  }

  const std::vector<Aabb> &prims_;
  float primitive_cost_;  // of intersecting one primitive, in triangle tests
  std::vector<float3> centers_;
  std::vector<uint32_t> idx_;
  struct Release {
    void operator()(BinaryNode *p) const { ::operator delete(p); }  // BinaryNode is trivially destructible
  };
  std::unique_ptr<BinaryNode[], Release> nodes_;
  std::atomic<uint32_t> next_node_{1};
  ThreadPool *pool_ = nullptr;
};

}  // namespace

Bvh build_bvh(const std::vector<Aabb> &prims, ThreadPool &pool, float primitive_cost) {
  Builder builder(prims, primitive_cost);
  if (!prims.empty()) builder.build(pool);
  return builder.finish();
}

}  // namespace optica
