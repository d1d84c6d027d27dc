// The storage conformance checks over the in-memory storage.
#include "storage_conformance.h"

NABLA_STORAGE_CONFORMANCE("memory", [] { return std::make_shared<nabla::hpo::InMemoryStorage>(); })
