#include "common/http/server.h"

#include <array>
#include <cctype>
#include <optional>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <spdlog/spdlog.h>

#include "common/http/json.h"
#include "common/http/response_head.h"
#include "common/http/route_stats.h"

namespace warden::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using BeastRequest = bhttp::request<bhttp::string_body>;
using BeastResponse = bhttp::response<bhttp::string_body>;

Method ToMethod(bhttp::verb verb) {
  switch (verb) {
    case bhttp::verb::get: return Method::kGet;
    case bhttp::verb::head: return Method::kHead;
    case bhttp::verb::post: return Method::kPost;
    case bhttp::verb::put: return Method::kPut;
    case bhttp::verb::patch: return Method::kPatch;
    case bhttp::verb::delete_: return Method::kDelete;
    case bhttp::verb::options: return Method::kOptions;
    default: return Method::kOther;
  }
}

std::string_view LookupHeader(const void* message, std::string_view name) {
  const auto& request = *static_cast<const BeastRequest*>(message);
  auto it = request.find(beast::string_view(name.data(), name.size()));
  if (it == request.end()) return {};
  auto value = it->value();
  return {value.data(), value.size()};
}

int64_t NowNanoseconds() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What a connection is doing, so Stop() closes only connections that are not mid-request, and
// the sweeper closes those that overstay their deadline.
struct Connection {
  std::function<void()> cancel;  // REQUIRES: called only on the connection's strand
  std::function<void()> close;   // likewise; closes the socket
  bool idle = true;              // REQUIRES: read and written only on the connection's strand
  asio::any_io_executor executor;
  // When the current phase (waiting, reading, writing) must be over; 0 for no deadline. Timeouts
  // are a clock read and a store per phase, checked by one sweeper for all connections, instead
  // of a timer armed and cancelled on every socket operation.
  std::atomic<int64_t> deadline_ns{0};
  void ExpireAfter(std::chrono::nanoseconds timeout) {
    deadline_ns.store(NowNanoseconds() + timeout.count(), std::memory_order_relaxed);
  }
};

namespace websocket = boost::beast::websocket;

// One accepted WebSocket: the Beast stream, and the queue that lets any thread send on it. Every
// socket operation runs on the connection's executor (a strand when there are several workers),
// so one read and one write may be in progress at once, as Beast allows.
template <typename Stream>
class WebSocketConnection final : public WebSocketChannel,
                                  public std::enable_shared_from_this<WebSocketConnection<Stream>> {
 public:
  WebSocketConnection(Stream stream, std::string remote, std::shared_ptr<Connection> connection)
      : ws(std::move(stream)), remote_(std::move(remote)), connection_(std::move(connection)) {}

  void Send(std::string text) override {
    std::lock_guard lock(mutex_);
    if (closing_ || ended_) return;
    queued_bytes_ += text.size();
    queue_.push_back(std::move(text));
    StartWriterLocked();
  }

  void Close(uint16_t code, std::string reason) override {
    std::lock_guard lock(mutex_);
    if (closing_ || ended_) return;
    closing_ = true;
    close_code_ = code;
    close_reason_ = std::move(reason);
    // A peer that stops reading could hold the close forever; the sweeper ends it instead.
    connection_->ExpireAfter(std::chrono::seconds(5));
    StartWriterLocked();
  }

  size_t queued_bytes() const override {
    std::lock_guard lock(mutex_);
    return queued_bytes_;
  }
  const std::string& remote_address() const override { return remote_; }

  void Attach(std::shared_ptr<WebSocketSession> session) {
    std::lock_guard lock(mutex_);
    session_ = std::move(session);
  }
  // The read side ended: nothing more is sent, and the session is let go (it holds us too).
  std::shared_ptr<WebSocketSession> End() {
    std::lock_guard lock(mutex_);
    ended_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    return std::move(session_);
  }

  websocket::stream<Stream> ws;

 private:
  void StartWriterLocked() {
    if (writing_) return;
    writing_ = true;
    // Posted, never dispatched: co_spawn may start the writer inline on this thread, which holds
    // mutex_ right now.
    auto self = this->shared_from_this();
    asio::post(ws.get_executor(), [self] { asio::co_spawn(self->ws.get_executor(), self->Write(self), asio::detached); });
  }

  // What the writer does next. The locked steps are plain functions, so no lock is ever held in
  // a coroutine frame across a suspension or a co_return.
  enum class Step { kMessage, kClose, kDone };
  Step TakeNext(std::string& message) {
    std::lock_guard lock(mutex_);
    if (!ended_ && !queue_.empty()) {
      message = std::move(queue_.front());
      queue_.pop_front();
      return Step::kMessage;
    }
    if (!ended_ && closing_ && !close_sent_) {
      close_sent_ = true;
      return Step::kClose;
    }
    writing_ = false;
    return Step::kDone;
  }
  // Returns false when the write failed (the writer stops; the read side sees the socket end).
  bool Written(size_t bytes, bool failed) {
    std::lock_guard lock(mutex_);
    queued_bytes_ -= std::min(queued_bytes_, bytes);
    if (!failed) return true;
    writing_ = false;
    closing_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    return false;
  }
  void WriterStopped() {
    std::lock_guard lock(mutex_);
    writing_ = false;
  }
  std::shared_ptr<WebSocketSession> CurrentSession() {
    std::lock_guard lock(mutex_);
    return session_;
  }

  // `self` keeps the connection alive while the writer runs.
  asio::awaitable<void> Write([[maybe_unused]] std::shared_ptr<WebSocketConnection> self) {
    beast::error_code error;
    std::string next;
    while (true) {
      Step step = TakeNext(next);
      if (step == Step::kDone) break;
      if (step == Step::kClose) {
        co_await ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(close_code_), close_reason_),
                                asio::redirect_error(asio::use_awaitable, error));
        WriterStopped();
        co_return;
      }
      ws.text(true);
      co_await ws.async_write(asio::buffer(next), asio::redirect_error(asio::use_awaitable, error));
      if (!Written(next.size(), static_cast<bool>(error))) co_return;
    }
    if (auto session = CurrentSession()) session->OnDrained();
  }

  mutable std::mutex mutex_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool ended_ = false;
  uint16_t close_code_ = 1000;
  std::string close_reason_;
  std::string remote_;
  std::shared_ptr<Connection> connection_;
  std::shared_ptr<WebSocketSession> session_;
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  const Router& router;
  asio::io_context io;  // the concurrency hint is the thread count: 1 lets Asio skip locking
  // Replaced whole by ReloadTls(); connections made with an older one keep it alive (OpenSSL
  // counts references from each connection to its context).
  std::mutex tls_mutex;
  std::shared_ptr<asio::ssl::context> tls;  // GUARDED_BY(tls_mutex)
  tcp::acceptor acceptor{io};
  std::vector<std::thread> workers;
  std::atomic<bool> stopping{false};
  bool stopped = false;

  std::mutex connections_mutex;
  std::condition_variable connections_drained;
  std::list<std::shared_ptr<Connection>> connections;

  // The timers of requests waiting in WaitUntilReady(), for WakeWaitingRequests(). Shared with
  // the posted wakes, which may run after their request stopped waiting.
  std::mutex waiting_mutex;
  std::list<std::shared_ptr<asio::steady_timer>> waiting;  // GUARDED_BY(waiting_mutex)

  metrics::Gauge* in_flight = nullptr;
  metrics::Gauge* open_connections = nullptr;
  metrics::Counter* refused_connections = nullptr;

  Impl(ServerOptions opts, const Router& r)
      : options(std::move(opts)), router(r), io(std::max(1, options.threads)) {
    auto& registry = router.registry();
    in_flight = &registry.AddGauge("warden_http_in_flight_requests", "Requests being handled now");
    open_connections = &registry.AddGauge("warden_http_open_connections", "Open client connections");
    refused_connections = &registry.AddCounter(
        "warden_http_refused_connections_total", "Connections refused at the connection limit");
  }

  asio::awaitable<void> Accept();
  asio::awaitable<void> SweepExpiredConnections();
  template <typename Stream>
  asio::awaitable<void> Serve(Stream stream, std::shared_ptr<Connection> connection);
  asio::awaitable<void> RefuseConnection(tcp::socket socket);
  template <typename Stream>
  asio::awaitable<void> ServeWebSocket(Stream stream, BeastRequest request, const Router::UpgradeRoute& route,
                                       std::shared_ptr<WebSocketSession> session,
                                       std::shared_ptr<Connection> connection);
  // A response as it goes on the wire: its head (response_head.h) and, unless HEAD or a status
  // without a body, its body.
  struct PreparedResponse {
    std::string head;
    std::string body;
    bool keep_alive = false;
  };
  // Routes `request` to its handler (404/405 when none); `stats` is set to the route's counters.
  Response Dispatch(Request& request, RouteStats*& stats);
  // Waits, without holding the thread, until `response.ready()` holds (asked again on each
  // WakeWaitingRequests()) or its deadline passes.
  asio::awaitable<void> WaitUntilReady(const Response& response, Connection& connection);
  // The response as it goes on the wire, its request counted and (with --access-log) logged.
  PreparedResponse Prepare(Response response, const BeastRequest& beast_request, const Request& request,
                           RouteStats* stats, std::chrono::steady_clock::time_point started);

  std::list<std::shared_ptr<Connection>>::iterator Register(std::shared_ptr<Connection> c) {
    std::lock_guard lock(connections_mutex);
    open_connections->Add(1);
    return connections.insert(connections.end(), std::move(c));
  }
  void Unregister(std::list<std::shared_ptr<Connection>>::iterator it) {
    std::lock_guard lock(connections_mutex);
    connections.erase(it);
    open_connections->Add(-1);
    if (connections.empty()) connections_drained.notify_all();
  }
};

namespace {

BeastResponse ToBeast(Response&& response, unsigned version, bool keep_alive,
                      const std::string& server_header) {
  BeastResponse out{static_cast<bhttp::status>(response.status), version};
  out.set(bhttp::field::server, server_header);
  out.set(bhttp::field::content_type, response.content_type);
  for (auto& [name, value] : response.headers) out.set(name, value);
  out.body() = std::move(response.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  return out;
}

Response ParseFailureResponse(const beast::error_code& error, const ServerOptions& options) {
  if (error == bhttp::error::body_limit) {
    return ErrorResponse(413, "payload_too_large",
                         "request body exceeds the limit of " +
                             std::to_string(options.max_body_bytes) + " bytes");
  }
  if (error == bhttp::error::header_limit) {
    return ErrorResponse(431, "header_too_large",
                         "request headers exceed the limit of " +
                             std::to_string(options.max_header_bytes) + " bytes");
  }
  return ErrorResponse(400, "bad_request", "malformed HTTP request: " + error.message());
}

// Where the header block at the start of `buffer` ends (just past its blank line), or 0 when it is
// not all there yet. A bare LF ending is found too, so Beast, not a wait, answers it.
size_t HeaderBlockEnd(const beast::flat_buffer& buffer) {
  std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
  const size_t crlf = data.find("\r\n\r\n");
  // Only the header block is searched for a bare-LF end: the buffer may hold bodies and many
  // pipelined requests after it, and each request would scan them all again.
  const size_t lf = data.substr(0, crlf == std::string_view::npos ? data.size() : crlf).find("\n\n");
  if (lf != std::string_view::npos) return lf + 2;
  return crlf == std::string_view::npos ? 0 : crlf + 4;
}

// Whether `buffer` holds a byte no header block may hold (a control character other than CR, LF
// and tab): then it cannot be one in progress, and Beast answers it at once instead of the read
// waiting for an end that will not come (a TLS ClientHello on a plain port, say).
bool HoldsNonHeaderByte(const beast::flat_buffer& buffer) {
  const auto* data = static_cast<const unsigned char*>(buffer.data().data());
  for (size_t i = 0; i < buffer.size(); ++i) {
    if ((data[i] < 0x20 && data[i] != '\r' && data[i] != '\n' && data[i] != '\t') || data[i] == 0x7f) return true;
  }
  return false;
}

// A line of the header block that starts with a space or tab: obs-fold, or a request line
// followed by one. Beast would join it to the line before; a proxy in front may not, so the two
// would read different requests. RFC 9112 lets a server refuse it instead: refused.
bool HasFoldedLine(const beast::flat_buffer& buffer, size_t header_end) {
  // On every request: jump from line end to line end (memchr) rather than test every byte.
  std::string_view header(static_cast<const char*>(buffer.data().data()), header_end);
  for (size_t at = header.find('\n'); at != std::string_view::npos && at + 1 < header.size();
       at = header.find('\n', at + 1)) {
    if (header[at + 1] == ' ' || header[at + 1] == '\t') return true;
  }
  return false;
}

// RFC 9112, 6.1 and 6.3: a request's Transfer-Encoding may only be "chunked" here, once, without
// Content-Length. A coding after chunked leaves the body's length unknown and a coding before it
// is one this server does not implement; either way the framing cannot be trusted, so the
// connection closes after the answer (nothing left in the buffer is read as a next request).
std::optional<Response> TransferEncodingRefusal(const BeastRequest& request) {
  if (request.count(bhttp::field::transfer_encoding) == 0) return std::nullopt;
  if (request.count(bhttp::field::transfer_encoding) > 1) {
    return ErrorResponse(400, "bad_request", "Transfer-Encoding: given more than once");
  }
  std::string value(request[bhttp::field::transfer_encoding]);
  for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::string> codings;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    std::string coding = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    coding.erase(0, coding.find_first_not_of(" \t"));
    coding.erase(coding.find_last_not_of(" \t") + 1);
    codings.push_back(coding);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (codings.back() != "chunked") {
    return ErrorResponse(codings.size() == 1 ? 501 : 400, codings.size() == 1 ? "not_implemented" : "bad_request",
                         codings.size() == 1 ? "Transfer-Encoding: '" + codings.back() + "' is not implemented (only chunked)"
                                             : "Transfer-Encoding: chunked must be the final coding, got '" + value + "'");
  }
  if (codings.size() > 1) {
    return ErrorResponse(501, "not_implemented",
                         "Transfer-Encoding: '" + value + "': only chunked alone is implemented");
  }
  if (request.count(bhttp::field::content_length) > 0) {
    return ErrorResponse(400, "bad_request", "Transfer-Encoding and Content-Length: give one, not both");
  }
  return std::nullopt;
}

}  // namespace

Response Server::Impl::Dispatch(Request& request, RouteStats*& stats) {
  Method method = request.method();
  Response response;
  stats = &router.unmatched_stats();
  Router::Match match = router.Find(method, request.path());
  switch (match.kind) {
    case Router::MatchKind::kFound:
      stats = match.route->stats.get();
      request.set_path_params(std::move(match.params));
      if (router.guard()) {
        if (auto refusal = router.guard()(request)) {
          response = std::move(*refusal);
          break;
        }
      }
      try {
        response = match.route->handler(request);
      } catch (const std::exception& error) {
        // A handler that throws has a bug; the client gets a 500 without the details.
        spdlog::error("handler for {} {} threw: {}", MethodName(method), match.route->pattern,
                      error.what());
        response = ErrorResponse(500, "internal", "internal error");
      }
      break;
    case Router::MatchKind::kWrongMethod:
      response = ErrorResponse(405, "method_not_allowed",
                               std::string(MethodName(method)) + " is not allowed on " +
                                   std::string(request.path()) + "; allowed: " + match.allow);
      response.with_header("Allow", match.allow);
      break;
    case Router::MatchKind::kNoPath:
      response = ErrorResponse(404, "not_found", "no route for " + std::string(request.path()));
      break;
  }
  return response;
}

asio::awaitable<void> Server::Impl::WaitUntilReady(const Response& response, Connection& connection) {
  connection.ExpireAfter(response.ready_deadline - std::chrono::steady_clock::now() + options.read_timeout);
  // The timer sleeps until the deadline; WakeWaitingRequests() cancels it so that ready() is
  // asked again. The wake is posted to this coroutine's executor, so it runs only while the
  // coroutine is suspended in the wait: a change that lands after ready() was asked always finds
  // the wait to cut short, and one that lands before is seen by ready() itself.
  auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor);
  std::list<std::shared_ptr<asio::steady_timer>>::iterator registration;
  {
    std::lock_guard lock(waiting_mutex);
    registration = waiting.insert(waiting.end(), timer);
  }
  while (!response.ready() && std::chrono::steady_clock::now() < response.ready_deadline) {
    timer->expires_at(response.ready_deadline);
    beast::error_code ignored;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  std::lock_guard lock(waiting_mutex);
  waiting.erase(registration);
}

Server::Impl::PreparedResponse Server::Impl::Prepare(Response response, const BeastRequest& beast_request,
                                                     const Request& request, RouteStats* stats,
                                                     std::chrono::steady_clock::time_point started) {
  Method method = request.method();
  if (response.ready) {
    // Only a first call may ask to wait; asking again is a handler bug.
    spdlog::error("handler for {} {} asked to wait again", MethodName(method), request.path());
    response = ErrorResponse(500, "internal", "internal error");
  }
  unsigned status = response.status;
  bool keep_alive = beast_request.keep_alive() && !stopping.load(std::memory_order_relaxed);
  PreparedResponse out;
  out.keep_alive = keep_alive;
  // HEAD: Content-Length stays that of the GET, without the body.
  out.head = ResponseHead(response, beast_request.version(), keep_alive, options.server_header, response.body.size());
  if (method != Method::kHead && StatusAllowsBody(status)) out.body = std::move(response.body);
  auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now() - started)
                         .count();
  stats->Record(status, static_cast<uint64_t>(nanoseconds));
  in_flight->Add(-1);
  if (options.access_log) {
    spdlog::get("access")->info("method={} target={} status={} duration_us={}", MethodName(method),
                                request.target(), status, nanoseconds / 1000);
  }
  return out;
}

template <typename Stream>
asio::awaitable<void> Server::Impl::Serve(Stream stream, std::shared_ptr<Connection> connection) {
  auto registration = Register(connection);
  beast::flat_buffer buffer;
  beast::error_code error;
  auto& tcp_layer = beast::get_lowest_layer(stream);
  // Stop() cancels through this only while the connection is idle; cleared before the frame ends.
  connection->cancel = [&tcp_layer] { tcp_layer.cancel(); };
  connection->close = [&tcp_layer] { tcp_layer.close(); };

  if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
    connection->ExpireAfter(options.read_timeout);
    co_await stream.async_handshake(asio::ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, error));
  }
  while (!error) {
    // Wait for the next request's first byte under the idle timeout; the whole request must then
    // arrive within the read timeout.
    if (buffer.size() == 0) {
      if (stopping.load()) break;
      connection->idle = true;
      connection->ExpireAfter(options.idle_timeout);
      size_t bytes = co_await stream.async_read_some(buffer.prepare(4096),
                                                     asio::redirect_error(asio::use_awaitable, error));
      buffer.commit(bytes);
      if (error) break;
    }
    connection->idle = false;
    connection->ExpireAfter(options.read_timeout);
    // Nearly always the first read brought the whole header block; else read until it is here.
    size_t header_end = HeaderBlockEnd(buffer);
    while (header_end == 0 && buffer.size() < options.max_header_bytes && !HoldsNonHeaderByte(buffer)) {
      size_t bytes = co_await stream.async_read_some(buffer.prepare(4096),
                                                     asio::redirect_error(asio::use_awaitable, error));
      buffer.commit(bytes);
      if (error) break;
      header_end = HeaderBlockEnd(buffer);
    }
    if (error) break;
    std::optional<Response> refusal;
    if (header_end != 0 && HasFoldedLine(buffer, header_end)) {
      refusal = ErrorResponse(400, "bad_request", "a header line starts with a space or tab (obs-fold is not accepted)");
    }
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    parser.body_limit(options.max_body_bytes);
    if (!refusal) {
      co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, error));
      if (error == bhttp::error::end_of_stream || error == asio::error::operation_aborted ||
          error == beast::error::timeout || error == asio::error::eof || error == asio::error::bad_descriptor) {
        break;
      }
      if (!error) refusal = TransferEncodingRefusal(parser.get());
    }
    if (error || refusal) {
      // The request cannot be understood; answer once and close, as the stream's framing is lost.
      BeastResponse out =
          ToBeast(refusal ? std::move(*refusal) : ParseFailureResponse(error, options), 11, false, options.server_header);
      router.unmatched_stats().Record(out.result_int(), 0);
      connection->ExpireAfter(options.read_timeout);
      co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, error));
      break;
    }
    if (websocket::is_upgrade(parser.get())) {
      std::string_view target(parser.get().target().data(), parser.get().target().size());
      const Router::UpgradeRoute* upgrade = router.FindUpgrade(target.substr(0, target.find('?')));
      if (upgrade != nullptr) {
        BeastRequest& beast_request = parser.get();
        Request request(ToMethod(beast_request.method()), target, std::string(), &beast_request, &LookupHeader);
        UpgradeDecision decision = upgrade->handler(request);
        if (decision.session) {
          co_await ServeWebSocket(std::move(stream), parser.release(), *upgrade, std::move(decision.session),
                                  connection);
          Unregister(registration);
          co_return;
        }
        BeastResponse out = ToBeast(std::move(decision.refusal), beast_request.version(), false, options.server_header);
        connection->ExpireAfter(options.read_timeout);
        co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, error));
        break;
      }
    }
    auto started = std::chrono::steady_clock::now();
    in_flight->Add(1);
    BeastRequest& beast_request = parser.get();
    std::string_view target(beast_request.target().data(), beast_request.target().size());
    Request request(ToMethod(beast_request.method()), target, std::move(beast_request.body()), &beast_request,
                    &LookupHeader);
    request.set_max_json_depth(options.max_json_depth);
    request.set_may_wait(true);
    RouteStats* stats = nullptr;
    Response response = Dispatch(request, stats);
    if (response.ready) {
      co_await WaitUntilReady(response, *connection);
      request.set_may_wait(false);
      response = Dispatch(request, stats);
    }
    PreparedResponse out = Prepare(std::move(response), beast_request, request, stats, started);
    bool keep_alive = out.keep_alive;
    connection->ExpireAfter(options.read_timeout);
    std::array<asio::const_buffer, 2> wire{asio::buffer(out.head), asio::buffer(out.body)};
    co_await asio::async_write(stream, wire, asio::redirect_error(asio::use_awaitable, error));
    if (!keep_alive) break;
  }
  connection->idle = true;
  connection->deadline_ns.store(0, std::memory_order_relaxed);
  connection->cancel = nullptr;
  connection->close = nullptr;
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    stream.socket().shutdown(tcp::socket::shutdown_send, error);
  } else {
    connection->ExpireAfter(std::chrono::seconds(1));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, error));
  }
  Unregister(registration);
}

template <typename Stream>
asio::awaitable<void> Server::Impl::ServeWebSocket(Stream stream, BeastRequest request,
                                                   const Router::UpgradeRoute& route,
                                                   std::shared_ptr<WebSocketSession> session,
                                                   std::shared_ptr<Connection> connection) {
  beast::error_code error;
  std::string remote;
  {
    auto endpoint = beast::get_lowest_layer(stream).socket().remote_endpoint(error);
    if (!error) remote = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }
  auto channel = std::make_shared<WebSocketConnection<Stream>>(std::move(stream), remote, connection);
  auto& ws = channel->ws;
  auto& tcp_layer = beast::get_lowest_layer(ws);
  connection->cancel = [&tcp_layer] { tcp_layer.cancel(); };
  connection->close = [&tcp_layer] { tcp_layer.close(); };
  websocket::permessage_deflate deflate;
  deflate.server_enable = true;
  // Snapshots are hundreds of megabytes of JSON lines: the fastest level still shrinks them
  // about tenfold, and the default level would make compression the bottleneck of a bootstrap.
  deflate.compLevel = 1;
  // A small message (a one-relation delta is about 300 bytes) is sent as it is: deflating it saved
  // a couple of hundred bytes and cost the sync hub about 18k instructions per edge per revision.
  deflate.msg_size_threshold = 1024;
  ws.set_option(deflate);
  ws.read_message_max(route.limits.max_message_bytes);
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(10);
  timeouts.idle_timeout = websocket::stream_base::none();  // the application's heartbeats decide
  timeouts.keep_alive_pings = false;
  ws.set_option(timeouts);
  std::string server_header = options.server_header;
  ws.set_option(websocket::stream_base::decorator(
      [server_header](websocket::response_type& response) { response.set(bhttp::field::server, server_header); }));
  connection->ExpireAfter(options.read_timeout);
  co_await ws.async_accept(request, asio::redirect_error(asio::use_awaitable, error));
  // An open WebSocket has no deadline of its own (heartbeats end dead sessions) and counts as
  // idle, so Stop() ends it.
  connection->deadline_ns.store(0, std::memory_order_relaxed);
  connection->idle = true;
  if (!error) {
    channel->Attach(session);
    session->OnOpen(channel);
    beast::flat_buffer buffer;
    while (!stopping.load()) {
      co_await ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, error));
      if (error) break;
      std::string message = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      session->OnMessage(std::move(message));
    }
    if (stopping.load() && ws.is_open()) {
      co_await ws.async_close(websocket::close_reason(websocket::close_code::going_away, "server stopping"),
                              asio::redirect_error(asio::use_awaitable, error));
    }
    auto ended = channel->End();
    if (ended) ended->OnClose();
  }
  connection->deadline_ns.store(0, std::memory_order_relaxed);
  connection->cancel = nullptr;
  connection->close = nullptr;
  beast::error_code ignored;
  tcp_layer.socket().shutdown(tcp::socket::shutdown_both, ignored);
  tcp_layer.close();
}

asio::awaitable<void> Server::Impl::RefuseConnection(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(1));
  BeastResponse out = ToBeast(
      ErrorResponse(503, "too_many_connections",
                    "the server holds its limit of " + std::to_string(options.max_connections) +
                        " connections"),
      11, false, options.server_header);
  beast::error_code error;
  co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, error));
  stream.socket().shutdown(tcp::socket::shutdown_send, error);
}

asio::awaitable<void> Server::Impl::SweepExpiredConnections() {
  // Check often enough that a deadline is overshot by at most a quarter of the shortest timeout.
  auto shortest = std::min(options.read_timeout, options.idle_timeout);
  auto interval = std::clamp<std::chrono::milliseconds>(shortest / 4, std::chrono::milliseconds(10),
                                                        std::chrono::milliseconds(1000));
  asio::steady_timer timer(io);
  while (!stopping.load()) {
    timer.expires_after(interval);
    beast::error_code error;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, error));
    int64_t now = NowNanoseconds();
    std::lock_guard lock(connections_mutex);
    for (auto& connection : connections) {
      int64_t deadline = connection->deadline_ns.load(std::memory_order_relaxed);
      if (deadline == 0 || deadline > now) continue;
      // If the connection moved on to its next phase meanwhile, it set a new deadline: leave it.
      if (!connection->deadline_ns.compare_exchange_strong(deadline, 0, std::memory_order_relaxed)) continue;
      // Closing (not just cancelling) makes every pending and later operation on it fail, so a
      // connection caught between two operations cannot slip past its deadline.
      asio::post(connection->executor, [connection] {
        if (connection->deadline_ns.load(std::memory_order_relaxed) == 0 && connection->close) connection->close();
      });
    }
  }
}

asio::awaitable<void> Server::Impl::Accept() {
  while (!stopping.load()) {
    beast::error_code error;
    // A strand per connection only matters when several threads run the io_context.
    tcp::socket socket = options.threads > 1 ? tcp::socket(asio::make_strand(io)) : tcp::socket(io);
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      if (error == asio::error::operation_aborted || stopping.load()) break;
      continue;  // e.g. EMFILE: keep accepting once descriptors free up
    }
    socket.set_option(tcp::no_delay(true), error);
    auto executor = socket.get_executor();
    size_t open;
    {
      std::lock_guard lock(connections_mutex);
      open = connections.size();
    }
    if (open >= options.max_connections) {
      refused_connections->Increment();
      asio::co_spawn(executor, RefuseConnection(std::move(socket)), asio::detached);
      continue;
    }
    auto connection = std::make_shared<Connection>();
    connection->executor = executor;
    std::shared_ptr<asio::ssl::context> context;
    {
      std::lock_guard lock(tls_mutex);
      context = tls;
    }
    if (context) {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *context);
      asio::co_spawn(executor, Serve(std::move(stream), connection), asio::detached);
    } else {
      beast::tcp_stream stream(std::move(socket));
      asio::co_spawn(executor, Serve(std::move(stream), connection), asio::detached);
    }
  }
}

namespace {

Result<std::shared_ptr<asio::ssl::context>> MakeServerTlsContext(const ServerOptions& options) {
  if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return Status::InvalidArgument("TLS needs both a certificate file and a key file");
  }
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  // TLS 1.2 suites with forward secrecy and an AEAD only (ECDHE with AES-GCM or ChaCha20); OpenSSL's
  // default list still offers static-RSA CBC suites such as AES128-SHA. TLS 1.3's suites are all
  // forward-secret and keep OpenSSL's defaults.
  if (SSL_CTX_set_cipher_list(context->native_handle(),
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1) {
    return Status::Internal("cannot set the TLS 1.2 cipher suites");
  }
  SSL_CTX_set_options(context->native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  beast::error_code error;
  context->use_certificate_chain_file(options.tls_cert_file, error);
  if (error) return Status::InvalidArgument("cannot load TLS certificate " + options.tls_cert_file + ": " + error.message());
  context->use_private_key_file(options.tls_key_file, asio::ssl::context::pem, error);
  if (error) return Status::InvalidArgument("cannot load TLS key " + options.tls_key_file + ": " + error.message());
  if (!SSL_CTX_check_private_key(context->native_handle())) {
    return Status::InvalidArgument("TLS key " + options.tls_key_file + " does not match certificate " +
                                   options.tls_cert_file);
  }
  if (!options.tls_client_ca_file.empty()) {
    context->load_verify_file(options.tls_client_ca_file, error);
    if (error) return Status::InvalidArgument("cannot load client CA " + options.tls_client_ca_file + ": " + error.message());
    context->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    // Named in the CertificateRequest so that a client holding several certificates picks one
    // this CA signed.
    STACK_OF(X509_NAME)* client_ca_names = SSL_load_client_CA_file(options.tls_client_ca_file.c_str());
    if (client_ca_names == nullptr) {
      return Status::InvalidArgument("client CA " + options.tls_client_ca_file + " holds no certificate");
    }
    SSL_CTX_set_client_CA_list(context->native_handle(), client_ca_names);
  }
  // OpenSSL refuses to resume a session on a context that verifies clients unless sessions are
  // tied to a context: without this, every client that resumes (curl, proxies, Python with a
  // session) fails its second handshake with an internal error. A reloaded context has its own
  // ticket keys and cache, so sessions from before a client CA rotation are never resumed.
  static constexpr unsigned char kSessionContext[] = "warden";
  SSL_CTX_set_session_id_context(context->native_handle(), kSessionContext, sizeof(kSessionContext) - 1);
  return context;
}

}  // namespace

Status Server::ReloadTls() {
  if (!tls()) return Status::Ok();
  auto context = MakeServerTlsContext(impl_->options);
  if (!context.ok()) return context.status();
  std::lock_guard lock(impl_->tls_mutex);
  impl_->tls = std::move(*context);
  return Status::Ok();
}

Server::Server(ServerOptions options, const Router& router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  auto& options = impl_->options;
  // A client CA alone must not quietly serve plain HTTP that verifies no one.
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty() || !options.tls_client_ca_file.empty()) {
    auto context = MakeServerTlsContext(options);
    if (!context.ok()) return context.status();
    impl_->tls = std::move(*context);
  }
  if (options.access_log && !spdlog::get("access")) {
    spdlog::register_logger(spdlog::default_logger()->clone("access"));
  }

  beast::error_code error;
  auto address = asio::ip::make_address(options.host, error);
  if (error) return Status::InvalidArgument("cannot parse listen address '" + options.host + "'");
  tcp::endpoint endpoint(address, options.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return Status::Unavailable("cannot listen on " + options.host + ":" +
                               std::to_string(options.port) + ": " + error.message());
  }
  asio::co_spawn(impl_->io, impl_->Accept(), asio::detached);
  asio::co_spawn(impl_->io, impl_->SweepExpiredConnections(), asio::detached);
  int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) {
    impl_->workers.emplace_back([this] { impl_->io.run(); });
  }
  return Status::Ok();
}

bool Server::tls() const {
  return !impl_->options.tls_cert_file.empty() && !impl_->options.tls_key_file.empty();
}

uint16_t Server::port() const {
  beast::error_code error;
  auto endpoint = impl_->acceptor.local_endpoint(error);
  return error ? 0 : endpoint.port();
}

void Server::WakeWaitingRequests() {
  std::lock_guard lock(impl_->waiting_mutex);
  for (const auto& timer : impl_->waiting) {
    asio::post(timer->get_executor(), [timer] { timer->cancel(); });
  }
}

void Server::Stop() {
  auto& impl = *impl_;
  if (impl.stopped) return;
  impl.stopped = true;
  impl.stopping.store(true);
  if (!impl.workers.empty()) {
    asio::post(impl.io, [&impl] {
      beast::error_code ignored;
      impl.acceptor.close(ignored);
    });
    std::vector<std::shared_ptr<Connection>> snapshot;
    {
      std::lock_guard lock(impl.connections_mutex);
      snapshot.assign(impl.connections.begin(), impl.connections.end());
    }
    for (auto& connection : snapshot) {
      asio::post(connection->executor, [connection] {
        if (connection->idle && connection->cancel) connection->cancel();
      });
    }
    {
      std::unique_lock lock(impl.connections_mutex);
      impl.connections_drained.wait_for(lock, impl.options.shutdown_grace,
                                        [&] { return impl.connections.empty(); });
    }
    impl.io.stop();
    for (auto& worker : impl.workers) worker.join();
    impl.workers.clear();
  }
}

}  // namespace warden::http
