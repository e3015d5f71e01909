package dev.styx.api;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP/1.1 over a Unix stream socket (Netty epoll). The event loop only parses and writes HTTP;
 * each request runs on a virtual thread, since mounts block for seconds. The socket file is mode
 * 0600 (root only) unless configured otherwise.
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ApiServer.class);
  private static final int MAX_BODY = 1 << 20;

  private final Path socket;
  private final ApiRoutes routes;
  private final String mode;
  private final EventLoopGroup group;
  private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
  private Channel channel;

  /** {@code mode} is the socket file's permission string, e.g. "rw-------". */
  public ApiServer(Path socket, ApiRoutes routes, String mode) {
    this.socket = socket;
    this.routes = routes;
    this.mode = mode;
    this.group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
  }

  public Path socket() {
    return socket;
  }

  /** Binds the socket, replacing a stale socket file but refusing one a live server answers on. */
  public void start() throws IOException {
    Files.createDirectories(socket.toAbsolutePath().getParent());
    if (Files.exists(socket)) {
      if (answers(socket)) {
        throw new IOException("another daemon is listening on " + socket);
      }
      Files.delete(socket);
    }
    ServerBootstrap b =
        new ServerBootstrap()
            .group(group)
            .channel(EpollServerDomainSocketChannel.class)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(MAX_BODY))
                        .addLast(new Handler());
                  }
                });
    try {
      channel = b.bind(new DomainSocketAddress(socket.toFile())).sync().channel();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while binding " + socket, e);
    } catch (Exception e) {
      throw new IOException("cannot listen on " + socket + ": " + e.getMessage(), e);
    }
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString(mode));
    log.info("API listening on {} (mode {})", socket, mode);
  }

  private static boolean answers(Path socket) {
    try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      c.connect(UnixDomainSocketAddress.of(socket));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      String uri = req.uri();
      byte[] body = ByteBufUtil.getBytes(req.content());
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      boolean bad = req.decoderResult().isFailure();
      ctx.channel().config().setAutoRead(false);
      workers.execute(
          () -> {
            ApiRoutes.Response r =
                bad
                    ? new ApiRoutes.Response(400, "application/json", "null".getBytes())
                    : routes.handle(uri, body);
            FullHttpResponse resp =
                new DefaultFullHttpResponse(
                    HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(r.status()),
                    Unpooled.wrappedBuffer(r.body()));
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
            resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
            if (keepAlive) {
              resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
              ctx.writeAndFlush(resp)
                  .addListener(
                      f -> {
                        ctx.channel().config().setAutoRead(true);
                        ctx.read();
                      });
            } else {
              ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
            }
          });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("API connection error", cause);
      ctx.close();
    }
  }

  @Override
  public void close() {
    boolean bound = channel != null;
    if (bound) {
      channel.close().awaitUninterruptibly();
    }
    group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
    workers.shutdownNow();
    if (bound) { // never remove a socket some other server is listening on
      try {
        Files.deleteIfExists(socket);
      } catch (IOException e) {
        log.warn("cannot remove {}: {}", socket, e.toString());
      }
    }
  }
}
