// Plain-text tables in the style of kubectl: upper-case headers, columns
// separated by at least three spaces, no borders.
#ifndef LOCUS_CTL_TABLE_H_
#define LOCUS_CTL_TABLE_H_

#include <string>
#include <vector>

namespace locus::ctl {

class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  // Missing cells are blank; extra cells are an error in the caller and are
  // dropped.
  void AddRow(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace locus::ctl

#endif  // LOCUS_CTL_TABLE_H_
