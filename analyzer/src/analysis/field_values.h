// What a translation unit ever stores in a struct field.
#pragma once

#include "tu_model.h"

namespace ftready::analysis {

// Does every store of the integer field `field` in the unit write the same
// constant (hashlib's `use_mutex = true`, in the constructor and in
// update())? Every store must be a plain `=` of an integer constant
// expression, nothing may take the field's address or step it, and the
// struct must be defined in the main file, so that no other unit writes
// it. Threads racing to store such a field all store the same value.
bool storesOnlyOneConstant(const clang::FieldDecl *field, const TuModel &model);

} // namespace ftready::analysis
