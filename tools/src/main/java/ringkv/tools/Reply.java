package ringkv.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

/**
 * A node's answer to one request: its status and its body as JSON ({@link MissingNode} when the
 * body is not JSON, e.g. {@code /metrics}; {@link #text()} has it as sent).
 */
record Reply(String address, String method, String path, int status, JsonNode json,
    String text) {

  boolean ok() {
    return status >= 200 && status < 300;
  }

  /** This reply if it is a success, else the failure the command ends with. */
  Reply expectOk() {
    if (!ok()) {
      throw failure();
    }
    return this;
  }

  /** The refusal as a one-line message and the exit code its status means. */
  CliException failure() {
    return new CliException(ExitCode.forStatus(status), describeError());
  }

  /** {@code "<error> (<status> from <node>, <METHOD> <path>)"}, from the JSON error body. */
  String describeError() {
    String error = json.path("error").asText("");
    String message = json.path("message").asText("");
    String what = error.isEmpty() ? message : error;
    if (!error.isEmpty() && !message.isEmpty() && !message.startsWith("Error in ")) {
      what = message + ": " + error;
    }
    if (what.isEmpty()) {
      what = text.isBlank() ? "empty answer" : abbreviate(text.strip());
    }
    String hint = status == 401 || status == 403 ? authorizationHint() : "";
    return what + " (" + status + " from " + address + ", " + method + " " + path + ")" + hint;
  }

  private String authorizationHint() {
    boolean keyValue = path.startsWith("/key-value-store/") || path.startsWith("/kvs/keys/");
    String variable = keyValue ? "CLIENT_TOKEN" : "ADMIN_TOKEN";
    return status == 401
        ? "; set " + variable + " to the node's token (sent as Authorization: Bearer)"
        : "; the node refused the token in " + variable;
  }

  private static String abbreviate(String s) {
    String line = s.replace('\n', ' ');
    return line.length() <= 200 ? line : line.substring(0, 200) + "...";
  }
}
