// Errors as the OpenAI API shapes them: HTTP status plus {"error": {"message", "type", "code", "param"}}.
#pragma once

#include <string>

namespace prima::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";  // invalid_request_error, authentication_error, not_found_error,
                                                // server_error, unavailable_error
  std::string code;   // short machine-readable reason ("invalid_json", "context_length_exceeded", ...); "" = null
  std::string param;  // the request field at fault; "" = null

  static ApiError invalid(std::string message, std::string param = {}, std::string code = "invalid_value") {
    return {400, std::move(message), "invalid_request_error", std::move(code), std::move(param)};
  }
  static ApiError unavailable(std::string message, std::string code) {
    return {503, std::move(message), "unavailable_error", std::move(code), {}};
  }
  static ApiError server(std::string message) { return {500, std::move(message), "server_error", "internal_error", {}}; }
};

// {"error": {...}} as compact JSON text.
std::string error_json(const ApiError& e);

}  // namespace prima::server
