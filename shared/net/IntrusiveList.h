#pragma once

#include <cstddef>

namespace portico::net {

/// A node that lives inside the object it links (a connection, a timer): linking and unlinking
/// never allocate, and an object can leave any list in O(1) without knowing which one holds it.
struct ListNode {
  ListNode* prev{this};
  ListNode* next{this};

  ListNode() = default;
  ListNode(const ListNode&) = delete;
  ListNode& operator=(const ListNode&) = delete;
  ~ListNode() { unlink(); }

  bool linked() const { return next != this; }
  void unlink() {
    prev->next = next;
    next->prev = prev;
    prev = next = this;
  }
};

/// A circular doubly linked list of ListNodes it does not own.
class IntrusiveList {
 public:
  IntrusiveList() = default;
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;
  ~IntrusiveList() {
    while (!empty()) head_.next->unlink();
  }

  bool empty() const { return head_.next == &head_; }
  ListNode* front() const { return empty() ? nullptr : head_.next; }
  ListNode* back() const { return empty() ? nullptr : head_.prev; }
  /// The node after `node`, or null at the end.
  ListNode* after(const ListNode* node) const {
    return node->next == &head_ ? nullptr : node->next;
  }

  /// The node before `node`, or null at the front.
  ListNode* before(const ListNode* node) const {
    return node->prev == &head_ ? nullptr : node->prev;
  }
  /// Links `node` right after `position` (null: at the front).
  void insertAfter(ListNode* position, ListNode& node) {
    node.unlink();
    ListNode& at = position ? *position : head_;
    node.prev = &at;
    node.next = at.next;
    at.next->prev = &node;
    at.next = &node;
  }

  void pushBack(ListNode& node) {
    node.unlink();
    node.prev = head_.prev;
    node.next = &head_;
    head_.prev->next = &node;
    head_.prev = &node;
  }
  void pushFront(ListNode& node) {
    node.unlink();
    node.next = head_.next;
    node.prev = &head_;
    head_.next->prev = &node;
    head_.next = &node;
  }
  std::size_t size() const {
    std::size_t n = 0;
    for (const ListNode* p = head_.next; p != &head_; p = p->next) ++n;
    return n;
  }

 private:
  ListNode head_;
};

/// The object a node is the member `Member` of.
template <class T, ListNode T::*Member>
T* owner(ListNode* node) {
  if (node == nullptr) return nullptr;
  const auto offset = reinterpret_cast<std::size_t>(&(static_cast<T*>(nullptr)->*Member));
  return reinterpret_cast<T*>(reinterpret_cast<char*>(node) - offset);
}

}  // namespace portico::net
