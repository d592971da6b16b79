package ringkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Goal: tables for people line up. Method: render small tables and compare their exact text:
 * column widths, right-aligned numbers, "-" for unknown cells, no trailing blanks.
 */
class TableTest {
  @Test
  void columnsAreAsWideAsTheirWidestCellAndNumbersAlignRight() {
    Table t = Table.of("Status", "Address", ">Keys", "Note");
    t.row("UP", "127.0.0.1:8082", 12345, "ok");
    t.row("DOWN", "10.0.0.1:1", null, "");
    assertEquals(List.of(
        "Status  Address          Keys  Note",
        "UP      127.0.0.1:8082  12345  ok",
        "DOWN    10.0.0.1:1          -"), t.lines());
  }

  @Test
  void aRowOfTheWrongWidthIsAProgrammingError() {
    Table t = Table.of("A", "B");
    assertThrows(IllegalArgumentException.class, () -> t.row("only one"));
  }

  @Test
  void anEmptyTableIsItsHeader() {
    assertEquals("Source  Target", Table.of("Source", "Target").toString());
  }
}
