// HttpClient against a scripted server on a real loopback socket: a request
// on a reused connection that the server closes without answering is sent
// again only when that is safe (idempotent methods), so a new order (POST)
// is never placed twice.
#include "client/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace stox::client {
namespace {

// One listening socket; script(accept) runs on its own thread, where
// accept() returns the next connection's fd.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<void(const std::function<int()>&)> script) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_fd_, 4), 0);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, script = std::move(script)] {
      script([this] { return ::accept(listen_fd_, nullptr, nullptr); });
    });
  }
  ~ScriptedServer() {
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
  }
  std::uint16_t port() const { return port_; }
  void join() { thread_.join(); }

 private:
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// Reads one whole request (headers and a Content-Length body); returns its
// request line, or "" at EOF.
std::string read_request(int fd) {
  std::string data;
  char buf[4096];
  std::size_t header_end = std::string::npos;
  std::size_t need = 0;
  for (;;) {
    if (header_end == std::string::npos) {
      header_end = data.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        const std::size_t cl = data.find("Content-Length: ");
        const std::size_t length = cl == std::string::npos ? 0 : std::stoul(data.substr(cl + 16));
        need = header_end + 4 + length;
      }
    }
    if (header_end != std::string::npos && data.size() >= need) return data.substr(0, data.find("\r\n"));
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return "";
    data.append(buf, static_cast<std::size_t>(n));
  }
}

void answer(int fd, std::string_view body) {
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                               "\r\n\r\n" + std::string(body);
  ASSERT_EQ(::write(fd, response.data(), response.size()), static_cast<ssize_t>(response.size()));
}

// The first connection answers its first request, then reads the second and
// closes without answering (as a server that crashed after acting on it).
// The second connection answers whatever comes first and records it.
struct Recorded {
  std::vector<std::string> first_connection;
  std::string second_connection_first;
};

ScriptedServer close_after_second_request(Recorded* rec) {
  return ScriptedServer([rec](const std::function<int()>& accept) {
    const int a = accept();
    rec->first_connection.push_back(read_request(a));
    answer(a, "one");
    rec->first_connection.push_back(read_request(a));
    ::close(a);
    const int b = accept();
    rec->second_connection_first = read_request(b);
    answer(b, "two");
    ::close(b);
  });
}

TEST(HttpClientTest, AnIdempotentRequestIsSentAgainWhenTheReusedConnectionClosesUnanswered) {
  Recorded rec;
  {
    ScriptedServer server = close_after_second_request(&rec);
    auto client = HttpClient::connect("127.0.0.1", server.port());
    ASSERT_TRUE(client.ok()) << client.status().to_string();
    auto first = client.value()->request("GET", "/a");
    ASSERT_TRUE(first.ok()) << first.status().to_string();
    EXPECT_EQ(first->body, "one");
    auto second = client.value()->request("DELETE", "/api/v1/orders/7");
    ASSERT_TRUE(second.ok()) << second.status().to_string();
    EXPECT_EQ(second->body, "two");
  }
  ASSERT_EQ(rec.first_connection.size(), 2u);
  EXPECT_EQ(rec.first_connection[1], "DELETE /api/v1/orders/7 HTTP/1.1");
  EXPECT_EQ(rec.second_connection_first, "DELETE /api/v1/orders/7 HTTP/1.1");
}

TEST(HttpClientTest, APostIsNeverSentTwiceWhenTheConnectionClosesAfterIt) {
  Recorded rec;
  {
    ScriptedServer server = close_after_second_request(&rec);
    auto client = HttpClient::connect("127.0.0.1", server.port());
    ASSERT_TRUE(client.ok()) << client.status().to_string();
    ASSERT_TRUE(client.value()->request("GET", "/a").ok());
    auto order = client.value()->request("POST", "/api/v1/orders", R"({"symbol":"AAPL"})");
    EXPECT_FALSE(order.ok()) << "the POST's fate is unknown: the caller must be told";
    // The next request opens the second connection: it must be this GET,
    // not a resent POST.
    auto probe = client.value()->request("GET", "/probe");
    ASSERT_TRUE(probe.ok()) << probe.status().to_string();
    EXPECT_EQ(probe->body, "two");
  }
  ASSERT_EQ(rec.first_connection.size(), 2u);
  EXPECT_EQ(rec.first_connection[1], "POST /api/v1/orders HTTP/1.1");
  EXPECT_EQ(rec.second_connection_first, "GET /probe HTTP/1.1");
}

}  // namespace
}  // namespace stox::client
