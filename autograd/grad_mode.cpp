// The thread-local flags of grad mode and create-graph mode.
#include "autograd/grad_mode.h"

namespace nabla {

namespace {
thread_local bool grad_enabled = true;
thread_local bool create_graph_enabled = false;
}  // namespace

bool GradMode::is_enabled() { return grad_enabled; }
void GradMode::set_enabled(bool enabled) { grad_enabled = enabled; }

bool CreateGraphGuard::is_enabled() { return create_graph_enabled; }
void CreateGraphGuard::set_enabled(bool enabled) { create_graph_enabled = enabled; }

}  // namespace nabla
