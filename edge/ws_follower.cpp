#include "edge/ws_follower.h"

#include <deque>
#include <optional>
#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/http/client.h"
#include "common/protocol/snapshot_format.h"
#include "common/protocol/sync_messages.h"
#include "edge/sync_receiver.h"

namespace warden::edge {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using nlohmann::json;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{200};
constexpr std::chrono::milliseconds kMaxBackoff{10'000};
constexpr std::chrono::minutes kPullFallbackSpan{5};
// After a nack the edge cannot move on; it reconnects after this long in case the hub has.
constexpr std::chrono::seconds kRetryAfterNack{60};

}  // namespace

// The state of one connection; lives on the session's io_context thread only. `Stream` is
// beast::tcp_stream (ws://) or beast::ssl_stream<beast::tcp_stream> (wss://).
template <typename Stream>
struct WsSession {
  websocket::stream<Stream> ws;
  std::deque<std::string> outbox;
  bool writing = false;
  bool upgraded = false;
  bool key_refused = false;
  bool upgrade_refused = false;
  Status ended;
  std::chrono::milliseconds heartbeat{10'000};

  asio::steady_timer timer;      // the heartbeat's
  asio::steady_timer log_timer;  // the decision-log shipper's
  bool done = false;
  std::optional<DecisionLog::SocketBatch> log_in_flight;
  // When the last message arrived, or the edge finished its own work (applying a snapshot can take
  // seconds during which nothing is read): silence is counted from the later of the two.
  std::chrono::steady_clock::time_point last_received = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point log_sent_at{};

  WsSession(asio::io_context& io, asio::ssl::context* tls) : ws(MakeStream(io, tls)), timer(io), log_timer(io) {}

  void SendText(std::string text) {
    outbox.push_back(std::move(text));
    if (!writing) {
      writing = true;
      asio::co_spawn(ws.get_executor(), Flush(), asio::detached);
    }
  }

  static Stream MakeStream(asio::io_context& io, asio::ssl::context* tls) {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      (void)tls;
      return Stream(io);
    } else {
      return Stream(io, *tls);
    }
  }

  void Send(json message) {
    outbox.push_back(message.dump());
    if (!writing) {
      writing = true;
      asio::co_spawn(ws.get_executor(), Flush(), asio::detached);
    }
  }
  asio::awaitable<void> Flush() {
    beast::error_code error;
    while (!outbox.empty()) {
      std::string next = std::move(outbox.front());
      outbox.pop_front();
      ws.text(true);
      co_await ws.async_write(asio::buffer(next), asio::redirect_error(asio::use_awaitable, error));
      if (error) break;
    }
    writing = false;
  }
};

namespace {

// Heartbeats from this side, every interval the welcome gave, until the session is done.
template <typename Session>
asio::awaitable<void> SendHeartbeats(Session* session, SyncApplier* applier) {
  while (!session->done) {
    session->timer.expires_after(session->heartbeat);
    beast::error_code ignored;
    co_await session->timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (session->done) break;
    if (std::chrono::steady_clock::now() - session->last_received > 3 * session->heartbeat) {
      // The hub went silent (a dead peer may never send a FIN): end the session.
      session->ended = Status::Unavailable("nothing from the control plane for " +
                                           std::to_string(3 * session->heartbeat.count()) + " ms");
      beast::error_code closing;
      beast::get_lowest_layer(session->ws).socket().close(closing);
      break;
    }
    session->Send({{"type", "heartbeat"}, {"revision", applier->revision()}});
  }
}


// Decision-log batches over the socket, one in flight at a time; an unacknowledged batch is sent
// again after kLogAckTimeout (the hub stores a repeated batch once).
constexpr std::chrono::seconds kLogAckTimeout{5};

template <typename Session>
asio::awaitable<void> ShipDecisionLogs(Session* session, DecisionLog* log) {
  while (!session->done) {
    auto now = std::chrono::steady_clock::now();
    if (session->log_in_flight && now - session->log_sent_at > kLogAckTimeout) session->log_in_flight.reset();
    if (!session->log_in_flight) {
      auto batch = log->NextSocketBatch();
      if (batch.ok() && *batch) {
        session->SendText((*batch)->message);
        session->log_in_flight = std::move(**batch);
        session->log_sent_at = now;
      }
    }
    session->log_timer.expires_after(session->log_in_flight ? std::chrono::milliseconds(kLogAckTimeout)
                                                            : log->flush_interval());
    beast::error_code ignored;
    co_await session->log_timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

}  // namespace

Result<std::unique_ptr<WsFollower>> WsFollower::Create(WsFollowOptions options, SyncApplier& applier) {
  auto url = http::ParseUrl(options.follow.control_plane_url);
  if (!url.ok()) return url.status();
  std::unique_ptr<WsFollower> follower(new WsFollower(std::move(options), applier));
  follower->url_ = *url;
  if (url->tls) {
    auto context = http::MakeClientTlsContext(follower->options_.follow.tls);
    if (!context.ok()) return context.status();
    follower->tls_ = *context;
  }
  return follower;
}

WsFollower::WsFollower(WsFollowOptions options, SyncApplier& applier)
    : options_(std::move(options)), applier_(applier) {
  if (options_.fall_back_to_pull) pull_ = std::make_unique<PullFollower>(options_.follow, applier_);
}

WsFollower::~WsFollower() { Stop(); }

void WsFollower::Start() {
  applier_.SetMode("ws");
  thread_ = std::thread([this] { Run(); });
}

void WsFollower::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (cancel_) cancel_();
  }
  if (pull_) pull_->Cancel();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool WsFollower::WaitFor(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, duration, [this] { return stopping_; });
}

void WsFollower::Run() {
  std::mt19937 random(std::random_device{}());
  std::chrono::milliseconds backoff{0};
  int failed_upgrades = 0;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    SessionEnd end;
    Status ended = tls_ ? RunSession<beast::ssl_stream<beast::tcp_stream>>(end) : RunSession<beast::tcp_stream>(end);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    if (end.upgraded) {
      failed_upgrades = 0;
      backoff = std::chrono::milliseconds(0);
    } else if (end.upgrade_refused) {
      ++failed_upgrades;
    }
    // A connection refused or reset (the control plane down or restarting) neither counts nor
    // breaks the run: edges go back to the socket as soon as the control plane returns.
    if (end.key_refused) {
      applier_.SetState("degraded", ended.message());
    } else if (!ended.ok()) {
      bool degraded = ended.code() == StatusCode::kInvalidArgument || ended.code() == StatusCode::kFailedPrecondition;
      applier_.SetState(degraded ? "degraded" : "unreachable", ended.message());
    }
    if (pull_ && failed_upgrades >= 3) {
      spdlog::warn("sync: the WebSocket could not be held ({} failed upgrades); falling back to pull for {} minutes",
                   failed_upgrades, kPullFallbackSpan.count());
      applier_.SetMode("pull");
      auto until = std::chrono::steady_clock::now() + kPullFallbackSpan;
      while (std::chrono::steady_clock::now() < until) {
        auto round = pull_->Round(std::chrono::seconds(30));
        applier_.FoldReplicaIfDue();
        if (round.ok()) {
          applier_.SetState("following", "");
        } else {
          applier_.SetState(round.status().code() == StatusCode::kUnavailable ? "unreachable" : "degraded",
                            round.status().message());
        }
        if (!WaitFor(round.ok() && *round > 0 ? std::chrono::milliseconds(0) : options_.follow.poll_interval)) return;
      }
      applier_.SetMode("ws");
      failed_upgrades = 0;
      continue;
    }
    backoff = std::min(kMaxBackoff, std::max(kFirstBackoff, backoff * 2));
    std::uniform_int_distribution<int64_t> jitter(0, backoff.count() / 2);
    if (!WaitFor(backoff + std::chrono::milliseconds(jitter(random)))) return;
  }
}

template <typename Stream>
Status WsFollower::RunSession(SessionEnd& end) {
  using Session = WsSession<Stream>;
  constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  // The URL was checked at start: http[s]://HOST:PORT.
  const std::string& host = url_.host;
  const std::string& port = url_.port;
  std::string authority = host + ":" + port;

  asio::io_context io;
  auto session = std::make_shared<Session>(io, tls_.get());
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Status::Ok();
    cancel_ = [&io] { io.stop(); };
  }

  auto run = [&]() -> asio::awaitable<void> {
    beast::error_code error;
    auto& ws = session->ws;
    tcp::resolver resolver(io);
    auto endpoints = co_await resolver.async_resolve(host, port, asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      session->ended = Status::Unavailable("cannot resolve " + authority + ": " + error.message());
      co_return;
    }
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
    co_await beast::get_lowest_layer(ws).async_connect(endpoints, asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      session->ended = Status::Unavailable("cannot connect to " + authority + ": " + error.message());
      co_return;
    }
    if constexpr (kTls) {
      if (!SSL_set_tlsext_host_name(ws.next_layer().native_handle(), host.c_str())) {
        session->ended = Status::InvalidArgument("cannot use '" + host + "' as a TLS server name");
        co_return;
      }
      ws.next_layer().set_verify_callback(asio::ssl::host_name_verification(host));
      co_await ws.next_layer().async_handshake(asio::ssl::stream_base::client,
                                               asio::redirect_error(asio::use_awaitable, error));
      if (error) {
        session->ended = Status::Unavailable("TLS handshake with " + authority + " failed: " + error.message());
        co_return;
      }
    }
    beast::get_lowest_layer(ws).expires_never();  // the WebSocket's own timeouts take over
    websocket::permessage_deflate deflate;
    deflate.client_enable = true;
    // Acks and heartbeats are a few dozen bytes: deflating each cost about 19k instructions, a
    // quarter of what applying the revision it acknowledges costs. Decision-log batches are still
    // compressed, at the fastest level: the default level's match search cost the edge more CPU
    // per shipped decision than the decision itself, for a few percent smaller batches.
    deflate.msg_size_threshold = 1024;
    deflate.compLevel = 1;
    ws.set_option(deflate);
    ws.read_message_max(protocol::kMaxIncomingMessage);
    websocket::stream_base::timeout timeouts{};
    // Beast completes a declined handshake only when this expires, so it bounds how fast auto
    // mode falls back to pull behind a proxy that refuses upgrades.
    timeouts.handshake_timeout = std::chrono::seconds(3);
    timeouts.idle_timeout = websocket::stream_base::none();  // silence is the heartbeat coroutine's to judge
    timeouts.keep_alive_pings = false;
    ws.set_option(timeouts);
    std::string key = options_.follow.key;
    ws.set_option(websocket::stream_base::decorator([key](websocket::request_type& request) {
      request.set(beast::http::field::authorization, "Bearer " + key);
      request.set(beast::http::field::user_agent, "warden-edge");
    }));
    websocket::response_type response;
    co_await ws.async_handshake(response, authority, "/v1/sync", asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      // Under TLS 1.3 a server refusing the edge's certificate (or its lack of one) says so only
      // now, after the client's side of the handshake has completed.
      if (http::IsTlsErrorCategory(error.category().name())) {
        session->ended = Status::Unavailable("TLS handshake with " + authority + " failed: " + error.message());
        co_return;
      }
      if (response.result_int() == 401 || response.result_int() == 403) {
        session->key_refused = true;
        session->ended = Status::PermissionDenied("the control plane refused the edge key (HTTP " +
                                                  std::to_string(response.result_int()) + ")");
      } else {
        // An answer other than 101 (or none within the handshake timeout) on a connection that
        // was accepted is something on the way refusing upgrades. A 503 is a server stopping or
        // a proxy whose backend is down: pull would fare no better, so it does not count.
        int http_status = response.result_int();
        session->upgrade_refused = (http_status != 0 && http_status != 503) || error == beast::error::timeout;
        session->ended = Status::Unavailable("WebSocket upgrade at " + authority + " failed" +
                                             (response.result_int() ? " (HTTP " + std::to_string(response.result_int()) + ")" : "") +
                                             ": " + error.message());
      }
      co_return;
    }
    session->upgraded = true;
    session->Send({{"type", "hello"},
                   {"protocol_versions", {protocol::kProtocolVersion}},
                   {"build", options_.build},
                   {"feature_level", protocol::kEngineFeatureLevel},
                   {"instance_id", applier_.instance_id()},
                   {"store_id", applier_.store_id()},
                   {"revision", applier_.revision()},
                   {"address", options_.address}});

    SyncReceiver receiver(applier_);
    beast::flat_buffer buffer;
    while (true) {
      auto halted_since = receiver.halted_since();
      if (halted_since && std::chrono::steady_clock::now() - *halted_since > kRetryAfterNack) {
        session->ended = Status::FailedPrecondition("reconnecting to retry the revision this edge could not apply");
        break;
      }
      if (applier_.ReplicaFoldDue()) {
        // Only with nothing else waiting, and once the acks already queued are on their way.
        beast::error_code ignored;
        if (beast::get_lowest_layer(ws).socket().available(ignored) == 0) {
          co_await asio::post(io, asio::use_awaitable);
          applier_.FoldReplicaIfDue();
          session->last_received = std::chrono::steady_clock::now();  // busy writing, not silent
        }
      }
      co_await ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, error));
      if (error) {
        // Deltas held back for the rest of their batch arrived whole: apply them (there is no
        // one left to ack them to; the next hello says what the edge holds).
        (void)receiver.Flush();
        if (session->ended.ok()) {
          std::string reason = ws.reason().reason.empty() ? error.message() : std::string(ws.reason().reason.data(), ws.reason().reason.size());
          session->ended = Status::Unavailable("sync connection closed: " + reason);
          if (ws.reason().code == protocol::kCloseKeyRevoked) {
            session->key_refused = true;
            session->ended = Status::PermissionDenied("the control plane revoked this edge's key");
          }
        }
        break;
      }
      session->last_received = std::chrono::steady_clock::now();
      // More bytes already waiting means the edge fell behind: the receiver then applies the
      // deltas that came together as one step. (Beast may also hold a few whole messages in its
      // own buffer; those are applied one by one, which is only slower.)
      beast::error_code ignored;
      bool more_waiting = beast::get_lowest_layer(ws).socket().available(ignored) > 0;
      std::string_view text(static_cast<const char*>(buffer.data().data()), buffer.size());
      SyncReceiver::Actions actions;
      try {
        actions = receiver.Handle(text, more_waiting);
        buffer.consume(buffer.size());
      } catch (const std::exception& thrown) {
        // Ended here, not by co_spawn's handler, which would leave the heartbeat and log-shipping
        // coroutines running with nothing reading the socket.
        session->ended = Status::Internal(std::string("sync session failed: ") + thrown.what());
        break;
      }
      session->last_received = std::chrono::steady_clock::now();  // busy applying until now, not silent
      for (auto& answer : actions.send) session->SendText(std::move(answer));
      if (actions.ended) session->ended = std::move(*actions.ended);
      if (actions.key_refused) session->key_refused = true;
      if (actions.end) break;
      if (actions.heartbeat) session->heartbeat = *actions.heartbeat;
      if (actions.start_heartbeats) {
        asio::co_spawn(io, SendHeartbeats(session.get(), &applier_), asio::detached);
        if (decision_log_) {
          decision_log_->SetSocketShipping(true);
          asio::co_spawn(io, ShipDecisionLogs(session.get(), decision_log_), asio::detached);
        }
      }
      if (actions.log_batch_acked && decision_log_ && session->log_in_flight &&
          *actions.log_batch_acked == session->log_in_flight->id) {
        Status acked = decision_log_->AcknowledgeSocketBatch(*session->log_in_flight);
        if (!acked.ok()) spdlog::error("decision log: cannot update the spool: {}", acked.message());
        session->log_in_flight.reset();
        session->log_timer.cancel();  // the next batch may go at once
      }
      if (actions.log_batch_refused && decision_log_ && session->log_in_flight &&
          actions.log_batch_refused->batch == session->log_in_flight->id) {
        // Never resent as it was: the log splits it, drops the entry refused alone, or waits.
        decision_log_->RefuseSocketBatch(*session->log_in_flight, actions.log_batch_refused->code,
                                         actions.log_batch_refused->message);
        session->log_in_flight.reset();
        session->log_timer.cancel();
      }
    }
    session->done = true;
    session->timer.cancel();
    session->log_timer.cancel();
    if (decision_log_) decision_log_->SetSocketShipping(false);
    beast::error_code ignored;
    beast::get_lowest_layer(ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws).close();
  };
  asio::co_spawn(io, run(), [&session](std::exception_ptr thrown) {
    if (!thrown) return;
    try {
      std::rethrow_exception(thrown);
    } catch (const std::exception& error) {
      session->ended = Status::Internal(std::string("sync session failed: ") + error.what());
    }
  });
  io.run();
  spdlog::info("sync: session ended (upgraded {}): {}", session->upgraded, session->ended.message());
  {
    std::lock_guard lock(mutex_);
    cancel_ = nullptr;
  }
  end.upgraded = session->upgraded;
  end.key_refused = session->key_refused;
  end.upgrade_refused = session->upgrade_refused;
  return session->ended;
}

}  // namespace warden::edge
