%% Distribution data-path workloads, run from node A against an echo process on node B.
-module(dist_bench).
-export([echo/0, rtt/2, bulk/3, pipelined/4]).

%% On B: register an echo process.
echo() ->
    Pid = spawn(fun Loop() -> receive {From, Msg} -> From ! {self(), Msg}, Loop(); stop -> ok end end),
    register(bench_echo, Pid),
    Pid.

%% Sequential round trips of a small message; returns microseconds per round trip.
rtt(Node, N) ->
    Echo = {bench_echo, Node},
    Echo ! {self(), warm}, receive {_, warm} -> ok end,
    T0 = erlang:monotonic_time(microsecond),
    rtt_loop(Echo, N),
    (erlang:monotonic_time(microsecond) - T0) / N.

rtt_loop(_, 0) -> ok;
rtt_loop(Echo, N) -> Echo ! {self(), ping}, receive {_, ping} -> rtt_loop(Echo, N - 1) end.

%% N messages of Size bytes, each acknowledged; returns MiB/s.
bulk(Node, N, Size) ->
    Sink = spawn(Node, fun Loop() -> receive {From, B} when is_binary(B) -> From ! ack, Loop(); stop -> ok end end),
    Bin = payload(Size),
    Sink ! {self(), <<0>>}, receive ack -> ok end,
    T0 = erlang:monotonic_time(microsecond),
    [begin Sink ! {self(), Bin}, receive ack -> ok end end || _ <- lists:seq(1, N)],
    Us = erlang:monotonic_time(microsecond) - T0,
    Sink ! stop,
    (N * Size / 1048576) / (Us / 1000000).

%% N small messages with Window outstanding; returns messages per second.
pipelined(Node, N, Size, Window) ->
    Echo = {bench_echo, Node},
    Msg = payload(Size),
    T0 = erlang:monotonic_time(microsecond),
    Sent = send_n(Echo, Msg, min(Window, N)),
    pipe_loop(Echo, Msg, N - Sent, Sent),
    Us = erlang:monotonic_time(microsecond) - T0,
    N / (Us / 1000000).

send_n(_, _, 0) -> 0;
send_n(Echo, Msg, K) -> Echo ! {self(), Msg}, 1 + send_n(Echo, Msg, K - 1).

pipe_loop(_, _, 0, 0) -> ok;
pipe_loop(Echo, Msg, ToSend, Outstanding) ->
    receive {_, _} ->
        case ToSend > 0 of
            true -> Echo ! {self(), Msg}, pipe_loop(Echo, Msg, ToSend - 1, Outstanding);
            false -> pipe_loop(Echo, Msg, 0, Outstanding - 1)
        end
    end.

payload(Size) -> binary:part(binary:copy(<<"meshx-node bench ">>, Size div 17 + 1), 0, Size).
