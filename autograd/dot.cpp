// Graphviz output of the backward graph.
#include "autograd/dot.h"

#include <sstream>
#include <unordered_map>
#include <vector>

#include "autograd/node.h"

namespace nabla::autograd {

std::string to_dot(const Tensor& t) {
  std::ostringstream os;
  os << "digraph autograd {\n  rankdir=BT;\n  node [fontname=\"Helvetica\", fontsize=10];\n";
  os << "  output [label=\"output\\n"
     << t.shape() << "\", shape=ellipse, style=filled, "
     << "fillcolor=\"#f5e6c8\"];\n";
  Edge root = gradient_edge(t);
  if (!root.valid()) return os.str() + "}\n";

  std::unordered_map<Node*, size_t> ids;
  std::vector<Node*> stack{root.node.get()};
  ids[root.node.get()] = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    const bool leaf = n->next_edges.empty();
    os << "  n" << ids[n] << " [label=\"" << (leaf ? "leaf" : n->name()) << "\\n"
       << n->output_meta.shape << "\", shape=" << (leaf ? "ellipse" : "box")
       << ", style=filled, fillcolor=\"" << (leaf ? "#d6f5d6" : "#dfe9f5") << "\"];\n";
    for (const Edge& e : n->next_edges) {
      if (!e.valid()) continue;
      auto [it, inserted] = ids.emplace(e.node.get(), ids.size());
      if (inserted) stack.push_back(e.node.get());
      os << "  n" << it->second << " -> n" << ids[n] << ";\n";
    }
  }
  os << "  n0 -> output;\n}\n";
  return os.str();
}

}  // namespace nabla::autograd
