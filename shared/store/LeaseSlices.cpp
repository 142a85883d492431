#include "store/LeaseSlices.h"

#include <algorithm>
#include <cassert>

namespace portico {

std::vector<IdRange> sliceIds(const std::vector<std::int64_t>& sortedIds, std::size_t perSlice) {
  assert(std::is_sorted(sortedIds.begin(), sortedIds.end()));
  const std::size_t step = std::max<std::size_t>(1, perSlice);
  std::vector<IdRange> slices;
  slices.reserve((sortedIds.size() + step - 1) / step);
  for (std::size_t from = 0; from < sortedIds.size(); from += step) {
    const std::size_t to = std::min(sortedIds.size(), from + step);
    slices.push_back(IdRange{sortedIds[from], sortedIds[to - 1], to - from});
  }
  return slices;
}

LeaseBalance balanceLeases(std::size_t held, std::int64_t targets, std::int64_t live) {
  const std::int64_t total = std::max<std::int64_t>(0, targets);
  const std::int64_t share = live > 0 ? (total + live - 1) / live : total;
  const auto mine = static_cast<std::int64_t>(held);
  LeaseBalance balance;
  if (mine > share) balance.release = static_cast<std::size_t>(mine - share);
  if (mine < share) balance.take = static_cast<std::size_t>(share - mine);
  return balance;
}

}  // namespace portico
