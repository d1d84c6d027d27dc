// Grad mode: whether ops record the graph (thread-local, switched off by NoGradGuard), and
// create-graph mode: whether backward() records its own pass (CreateGraphGuard).
#pragma once

namespace nabla {

class GradMode {
 public:
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// Within its scope ops record nothing: for evaluation and optimizer updates.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Sets grad mode for its scope, restoring the previous mode after.
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) : previous_(GradMode::is_enabled()) {
    GradMode::set_enabled(enabled);
  }
  ~GradModeGuard() { GradMode::set_enabled(previous_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

// Within its scope backward() records the backward pass itself, as create_graph does, so that
// the gradients it leaves in leaves' grad() can be differentiated again. For code that runs a
// closure it does not own (an optimizer's closure calls backward(loss)) and needs Hessian-vector
// products of the result. A leaf's grad() then holds a graph that holds the leaf (engine.h):
// reset grad() once done with it. autograd::grad takes its own create_graph and ignores this.
class CreateGraphGuard {
 public:
  CreateGraphGuard() : previous_(is_enabled()) { set_enabled(true); }
  ~CreateGraphGuard() { set_enabled(previous_); }
  CreateGraphGuard(const CreateGraphGuard&) = delete;
  CreateGraphGuard& operator=(const CreateGraphGuard&) = delete;

  static bool is_enabled();

 private:
  static void set_enabled(bool enabled);
  bool previous_;
};

}  // namespace nabla
