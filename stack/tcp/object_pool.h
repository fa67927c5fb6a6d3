// Fixed-size objects for one core: a free list over slabs that are
// allocated in chunks and never returned, so that steady-state connection
// churn never touches the shared heap.
#ifndef LOCUS_STACK_TCP_OBJECT_POOL_H_
#define LOCUS_STACK_TCP_OBJECT_POOL_H_

#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace locus::tcp {

template <typename T, size_t kSlabObjects = 256>
class ObjectPool {
 public:
  explicit ObjectPool(size_t max_objects) : max_objects_(max_objects) {}
  ~ObjectPool() = default;  // objects must have been destroyed by their owner
  ObjectPool(const ObjectPool&) = delete;
  ObjectPool& operator=(const ObjectPool&) = delete;

  // Constructs a T, or returns null when max_objects are live.
  template <typename... Args>
  T* New(Args&&... args) {
    if (free_ == nullptr) {
      if (allocated_ >= max_objects_) return nullptr;
      Grow();
    }
    Slot* slot = free_;
    free_ = slot->next;
    ++live_;
    return new (slot->storage) T(std::forward<Args>(args)...);
  }

  void Delete(T* object) {
    object->~T();
    Slot* slot = reinterpret_cast<Slot*>(object);
    slot->next = free_;
    free_ = slot;
    --live_;
  }

  size_t live() const { return live_; }
  size_t allocated() const { return allocated_; }

 private:
  union Slot {
    Slot* next;
    alignas(T) unsigned char storage[sizeof(T)];
  };

  void Grow() {
    slabs_.push_back(std::make_unique<Slot[]>(kSlabObjects));
    Slot* slab = slabs_.back().get();
    for (size_t i = 0; i < kSlabObjects; ++i) {
      slab[i].next = free_;
      free_ = &slab[i];
    }
    allocated_ += kSlabObjects;
  }

  size_t max_objects_;
  size_t allocated_ = 0;
  size_t live_ = 0;
  Slot* free_ = nullptr;
  std::vector<std::unique_ptr<Slot[]>> slabs_;
};

}  // namespace locus::tcp

#endif  // LOCUS_STACK_TCP_OBJECT_POOL_H_
