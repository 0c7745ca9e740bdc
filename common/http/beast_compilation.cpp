// Boost.Asio, Asio's SSL and Beast compiled once for the whole project (separate compilation):
// every other file includes only their declarations, which keeps builds lean.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
