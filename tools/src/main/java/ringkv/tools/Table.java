package ringkv.tools;

import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table for people: a header row and rows of cells, each column as wide as its
 * widest cell, two spaces between columns, numbers right-aligned, no trailing blanks.
 */
final class Table {
  /** How a column's cells line up. */
  enum Align { LEFT, RIGHT }

  private final List<String> headers;
  private final List<Align> aligns;
  private final List<List<String>> rows = new ArrayList<>();

  private Table(List<String> headers, List<Align> aligns) {
    this.headers = List.copyOf(headers);
    this.aligns = List.copyOf(aligns);
  }

  /**
   * A table whose columns are named by {@code headers}; a header that starts with '>' names a
   * right-aligned column (the '>' is not printed).
   */
  static Table of(String... headers) {
    List<String> names = new ArrayList<>();
    List<Align> aligns = new ArrayList<>();
    for (String h : headers) {
      boolean right = h.startsWith(">");
      names.add(right ? h.substring(1) : h);
      aligns.add(right ? Align.RIGHT : Align.LEFT);
    }
    return new Table(names, aligns);
  }

  Table row(Object... cells) {
    if (cells.length != headers.size()) {
      throw new IllegalArgumentException("row of " + cells.length + " cells in a table of "
          + headers.size() + " columns");
    }
    List<String> row = new ArrayList<>();
    for (Object c : cells) {
      row.add(c == null ? "-" : c.toString());
    }
    rows.add(row);
    return this;
  }

  int size() {
    return rows.size();
  }

  /** The table as lines, header first. */
  List<String> lines() {
    int[] widths = new int[headers.size()];
    for (int i = 0; i < widths.length; i++) {
      widths[i] = headers.get(i).length();
      for (List<String> row : rows) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    List<String> lines = new ArrayList<>();
    lines.add(render(headers, widths));
    for (List<String> row : rows) {
      lines.add(render(row, widths));
    }
    return lines;
  }

  @Override
  public String toString() {
    return String.join("\n", lines());
  }

  private String render(List<String> cells, int[] widths) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String cell = cells.get(i);
      int pad = widths[i] - cell.length();
      if (i > 0) {
        b.append("  ");
      }
      if (aligns.get(i) == Align.RIGHT) {
        b.append(" ".repeat(pad)).append(cell);
      } else {
        b.append(cell);
        b.append(" ".repeat(pad));
      }
    }
    return b.toString().stripTrailing();
  }
}
