// A blocking loopback TCP client for server tests: sends exact bytes, reads what comes back.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace warden::testing {

class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  bool Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads until `count` complete responses arrived (by Content-Length), the peer closed, or the
  // timeout passed; returns everything read.
  std::string ReadResponses(int count, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::string data;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (CompleteResponses(data) < count) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buffer[65536];
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      data.append(buffer, static_cast<size_t>(n));
    }
    return data;
  }

  // True when the peer closes the connection within `timeout`.
  bool WaitForClose(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buffer[4096];
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) closed_ = true;
    }
    return true;
  }

  static int CompleteResponses(const std::string& data) {
    int complete = 0;
    size_t at = 0;
    while (true) {
      size_t end = data.find("\r\n\r\n", at);
      if (end == std::string::npos) return complete;
      size_t length_at = data.find("Content-Length: ", at);
      size_t length = 0;
      if (length_at != std::string::npos && length_at < end) length = std::stoul(data.substr(length_at + 16));
      if (data.size() < end + 4 + length) return complete;
      ++complete;
      at = end + 4 + length;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
};

}  // namespace warden::testing
