// Lookups over the named resources of a Config (listeners, route tables,
// pools), shared by the control plane and proxyctl.
#ifndef LOCUS_API_RESOURCES_H_
#define LOCUS_API_RESOURCES_H_

#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace locus::api {

// Index of the resource called `name`, or -1.
template <typename Message>
int IndexOfName(const google::protobuf::RepeatedPtrField<Message>& items,
                absl::string_view name) {
  for (int i = 0; i < items.size(); ++i) {
    if (items.Get(i).name() == name) return i;
  }
  return -1;
}

// The resource called `name`, or nullptr.
template <typename Message>
const Message* FindByName(
    const google::protobuf::RepeatedPtrField<Message>& items,
    absl::string_view name) {
  int i = IndexOfName(items, name);
  return i < 0 ? nullptr : &items.Get(i);
}

}  // namespace locus::api

#endif  // LOCUS_API_RESOURCES_H_
