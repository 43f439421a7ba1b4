// native.cc - what Node lacks, for the TypeScript runtime (src/native/).
// Only these functions; each throws an Error with the errno text on failure:
//   flock(fd, 'sh'|'ex'|'un', nonblock): void
//   pidfdOpen(pid): number
//   pidfdSendSignal(pidfd, sig): void
//   setChildSubreaper(): void
//   waitpidBlocking(pid): { code?: number, signal?: number }
//   socketpair(): [number, number]             (AF_UNIX stream, both close-on-exec)
//   unixConnect(path, timeoutMs): number       (a connected AF_UNIX stream, blocking, close-on-exec;
//                                               reads and writes fail with EAGAIN after timeoutMs)
//   spawn(path, argv, env, fds): number         (pid; child fd i is fds[i])
//   waitExit(pid, timeoutMs): number | undefined (exit status, 128+signal; undefined on timeout)
//   forwardSignals(target, signals): void       (from now on those signals go to target)
//   waitForwarding(pid, target, signals): number (waits for pid; those signals go to target)
//   exitNow(code): never returns                (_exit: no atexit handlers, no V8 teardown)
//   fnv1a64(data): string                       (16 hex digits: FNV-1a of a Buffer or UTF-8 text)
//   recvRequest(fd, timeoutMs): { argv, env, fds } (one client request: csrc/common/wire.h)
//   peerCred(fd): { pid, uid, gid }             (SO_PEERCRED of a connected unix socket)
//   exchange(fd, out, inLen): Buffer            (writes out, then reads exactly inLen bytes; blocking)
//   openPty(): [master, slave]                  (a new pty pair of the caller's /dev/ptmx, close-on-exec)
//   sendFd(sock, fd, data): void                (data with fd as SCM_RIGHTS, one message)
#include <napi.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/devprog.h"
#include "../common/proc.h"
#include "../common/sendfd.h"
#include "../common/wire.h"

namespace {

[[noreturn]] void ThrowErrno(Napi::Env env, const std::string &what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + std::strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, what));
  throw e;
}

int IntArg(const Napi::CallbackInfo &info, size_t i, const char *name) {
  if (info.Length() <= i || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

Napi::Value Flock(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  if (info.Length() < 2 || !info[1].IsString())
    throw Napi::TypeError::New(env, "op must be 'sh', 'ex' or 'un'");
  std::string op = info[1].As<Napi::String>().Utf8Value();
  int how;
  if (op == "sh") how = LOCK_SH;
  else if (op == "ex") how = LOCK_EX;
  else if (op == "un") how = LOCK_UN;
  else throw Napi::TypeError::New(env, "op must be 'sh', 'ex' or 'un'");
  if (info.Length() > 2 && info[2].ToBoolean().Value()) how |= LOCK_NB;
  int r;
  do r = flock(fd, how); while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(env, "flock", errno);
  return env.Undefined();
}

Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pid = IntArg(info, 0, "pid");
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) ThrowErrno(env, "pidfd_open", errno);
  // Node must not pass it to children it spawns
  ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  return Napi::Number::New(env, static_cast<double>(fd));
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pidfd = IntArg(info, 0, "pidfd");
  int sig = IntArg(info, 1, "sig");
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0)
    ThrowErrno(env, "pidfd_send_signal", errno);
  return env.Undefined();
}

Napi::Value SetChildSubreaper(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    ThrowErrno(env, "prctl(PR_SET_CHILD_SUBREAPER)", errno);
  return env.Undefined();
}

Napi::Value WaitpidBlocking(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pid = IntArg(info, 0, "pid");
  int status = 0;
  pid_t r = wait_retrying(pid, &status);
  if (r < 0) ThrowErrno(env, "waitpid", errno);
  Napi::Object out = Napi::Object::New(env);
  if (WIFEXITED(status))
    out.Set("code", Napi::Number::New(env, WEXITSTATUS(status)));
  else if (WIFSIGNALED(status))
    out.Set("signal", Napi::Number::New(env, WTERMSIG(status)));
  return out;
}

Napi::Value Socketpair(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    ThrowErrno(env, "socketpair", errno);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, sv[0]));
  out.Set(1u, Napi::Number::New(env, sv[1]));
  return out;
}

Napi::Value UnixConnect(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(env, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int ms = IntArg(info, 1, "timeoutMs");
  struct sockaddr_un sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof(sa.sun_path)) ThrowErrno(env, "connect " + path, ENAMETOOLONG);
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(env, "socket", errno);
  struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
    int e = errno;
    close(fd);
    ThrowErrno(env, "setsockopt SO_RCVTIMEO", e);
  }
  int r;
  do r = connect(fd, reinterpret_cast<struct sockaddr *>(&sa), sizeof(sa)); while (r < 0 && errno == EINTR);
  if (r < 0) {
    int e = errno;
    close(fd);
    ThrowErrno(env, "connect " + path, e);
  }
  return Napi::Number::New(env, fd);
}

std::vector<std::string> StringsArg(const Napi::CallbackInfo &info, size_t i, const char *name) {
  if (info.Length() <= i || !info[i].IsArray())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be an array of strings");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value v = a.Get(k);
    if (!v.IsString())
      throw Napi::TypeError::New(info.Env(), std::string(name) + " must be an array of strings");
    out.push_back(v.As<Napi::String>().Utf8Value());
  }
  return out;
}

std::vector<int> IntsArg(const Napi::CallbackInfo &info, size_t i, const char *name) {
  if (info.Length() <= i || !info[i].IsArray())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be an array of numbers");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<int> out;
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value v = a.Get(k);
    if (!v.IsNumber())
      throw Napi::TypeError::New(info.Env(), std::string(name) + " must be an array of numbers");
    out.push_back(v.As<Napi::Number>().Int32Value());
  }
  return out;
}

std::vector<char *> CStrings(std::vector<std::string> &v) {
  std::vector<char *> out;
  for (auto &s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// posix_spawn (a vfork in glibc) rather than child_process: loading child_process and its
// streams costs a short-lived runtime more than the whole C side of a create. The child gets
// default dispositions and an empty mask (Node ignores SIGPIPE), and exactly the fds asked for.
Napi::Value Spawn(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(env, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::vector<std::string> argv = StringsArg(info, 1, "argv");
  std::vector<std::string> envv = StringsArg(info, 2, "env");
  std::vector<int> fds = IntsArg(info, 3, "fds");
  std::vector<char *> cargv = CStrings(argv), cenv = CStrings(envv);
  pid_t pid;
  int badFd;
  int err = spawn_fds(path.c_str(), cargv.data(), cenv.data(), fds.data(), static_cast<int>(fds.size()), &pid, &badFd);
  if (err && badFd >= 0) ThrowErrno(env, "spawn " + path + ": fd " + std::to_string(badFd), err);
  if (err) ThrowErrno(env, "spawn " + path, err);
  return Napi::Number::New(env, pid);
}

Napi::Value WaitExit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pid = IntArg(info, 0, "pid");
  int timeout = IntArg(info, 1, "timeoutMs");
  int code = 0;
  int r = wait_exit(pid, timeout, &code);
  if (r < 0) ThrowErrno(env, "wait for " + std::to_string(pid), errno);
  if (r > 0) return env.Undefined();
  return Napi::Number::New(env, code);
}

// Installed as soon as a foreground exec's process exists: until tsrun reaches its wait (the pid
// file and the exec plan are written first), a signal to it would otherwise end tsrun instead.
Napi::Value ForwardSignals(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int target = IntArg(info, 0, "target");
  std::vector<int> sigs = IntsArg(info, 1, "signals");
  if (forward_signals(target, sigs.data(), static_cast<int>(sigs.size()), nullptr) < 0) ThrowErrno(env, "sigaction", errno);
  return env.Undefined();
}

// A foreground run or exec blocks here: Node's event loop would only add its own start-up
// cost, and a C handler forwards a signal even while the main thread waits.
Napi::Value WaitForwarding(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pid = IntArg(info, 0, "pid");
  int target = IntArg(info, 1, "target");
  std::vector<int> sigs = IntsArg(info, 2, "signals");
  int code = 0;
  const char *what = "";
  if (wait_forwarding(pid, target, sigs.data(), static_cast<int>(sigs.size()), &code, &what) < 0)
    ThrowErrno(env, what, errno);
  return Napi::Number::New(env, code);
}

// A cache file name for a large key (src/seccomp/cache.ts), and the code cache's checksum
// (src/boot.ts: V8 does not check what it deserializes and crashes on a damaged cache). The
// same loop in JavaScript runs in V8's interpreter in a short-lived process and costs ms, and
// node:crypto costs ms to load.
Napi::Value Fnv1a64(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint64_t h;
  if (info.Length() >= 1 && info[0].IsString()) {
    std::string text = info[0].As<Napi::String>().Utf8Value();
    h = fnv1a64(reinterpret_cast<const unsigned char *>(text.data()), text.size());
  } else if (info.Length() >= 1 && info[0].IsBuffer()) {
    Napi::Buffer<unsigned char> b = info[0].As<Napi::Buffer<unsigned char>>();
    h = fnv1a64(b.Data(), b.Length());
  } else {
    throw Napi::TypeError::New(env, "data must be a string or a Buffer");
  }
  char out[17];
  snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(h));
  return Napi::String::New(env, out);
}

// Node's own exit joins its platform threads and runs OpenSSL's and V8's destructors: several
// ms a short command's caller waits for. Nothing is buffered by then (stdout and stderr are
// written synchronously), so _exit loses nothing.
Napi::Value ExitNow(const Napi::CallbackInfo &info) {
  _exit(IntArg(info, 0, "code"));
}

// The server's worker takes a client's request here (src/server/worker.ts): the fds come with
// SCM_RIGHTS, which Node's net module cannot receive.
Napi::Value RecvRequest(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  int ms = IntArg(info, 1, "timeoutMs");
  struct wire_header h;
  int fds[WIRE_MAX_FDS];
  char *payload = nullptr;
  if (wire_recv(fd, ms, &h, fds, &payload) < 0) ThrowErrno(env, "receive request", errno);
  Napi::Array argv = Napi::Array::New(env), envv = Napi::Array::New(env), outFds = Napi::Array::New(env);
  for (uint32_t i = 0; i < h.nfds; i++) outFds.Set(i, Napi::Number::New(env, fds[i]));
  uint32_t k = 0, na = 0, ne = 0;
  while (k < h.payload) {
    size_t len = strlen(payload + k);
    Napi::String v = Napi::String::New(env, payload + k, len);
    if (na < h.argc) argv.Set(na++, v);
    else envv.Set(ne++, v);
    k += static_cast<uint32_t>(len) + 1;
  }
  free(payload);
  Napi::Object out = Napi::Object::New(env);
  out.Set("argv", argv);
  out.Set("env", envv);
  out.Set("fds", outFds);
  out.Set("init", Napi::Number::New(env, h.init));
  return out;
}

// The server asks its client to wait for or signal the tsrun-init it started (wire.h): a
// worker thread blocks here, as a cold call blocks in waitForwarding.
Napi::Value Exchange(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  if (info.Length() < 2 || !info[1].IsBuffer()) throw Napi::TypeError::New(env, "out must be a Buffer");
  Napi::Buffer<char> out = info[1].As<Napi::Buffer<char>>();
  int want = IntArg(info, 2, "inLen");
  for (size_t off = 0; off < out.Length();) {
    ssize_t n = send(fd, out.Data() + off, out.Length() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      struct pollfd p = { fd, POLLOUT, 0 };
      poll(&p, 1, -1);
      continue;
    }
    if (n < 0) ThrowErrno(env, "send to the client", errno);
    off += static_cast<size_t>(n);
  }
  std::vector<char> in(static_cast<size_t>(want));
  for (size_t off = 0; off < in.size();) {
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, -1) < 0 && errno != EINTR) ThrowErrno(env, "poll the client", errno);
    ssize_t n = recv(fd, in.data() + off, in.size() - off, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) ThrowErrno(env, "receive from the client", errno);
    if (n == 0) ThrowErrno(env, "receive from the client", ECONNRESET);
    off += static_cast<size_t>(n);
  }
  return Napi::Buffer<char>::Copy(env, in.data(), in.size());
}

// restore's device program: CRIU puts the restored tasks in a cgroup tsrun made, with no
// tsrun-init to attach it (create's device_filter record).
Napi::Value AttachDeviceProgram(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBuffer())
    throw Napi::TypeError::New(env, "attachDeviceProgram(dir: string, code: Buffer)");
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  Napi::Buffer<unsigned char> code = info[1].As<Napi::Buffer<unsigned char>>();
  static char vlog[65536];
  vlog[0] = '\0';
  const char *what = "";
  int err = devprog_attach(dir.c_str(), code.Data(), code.Length(), &what, vlog, sizeof(vlog));
  if (err) ThrowErrno(env, std::string(what) + " " + dir + (vlog[0] ? std::string(" (verifier: ") + vlog + ")" : ""), err);
  return env.Undefined();
}

// Restore's terminal: CRIU gives the restored process the slave in place of its old one, and
// the master goes to --console-socket (src/container/restore-tty.ts). Neither end becomes this
// process's controlling terminal.
Napi::Value OpenPty(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) ThrowErrno(env, "open /dev/ptmx", errno);
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) {
    int e = errno;
    close(master);
    ThrowErrno(env, "unlock the pty", e);
  }
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    int e = errno;
    close(master);
    ThrowErrno(env, "open the pty slave", e);
  }
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, master));
  out.Set(1u, Napi::Number::New(env, slave));
  return out;
}

Napi::Value SendFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = IntArg(info, 0, "sock");
  int fd = IntArg(info, 1, "fd");
  if (info.Length() < 3 || !info[2].IsString()) throw Napi::TypeError::New(env, "data must be a string");
  std::string data = info[2].As<Napi::String>().Utf8Value();
  if (send_fd(sock, fd, data.data(), data.size()) < 0) ThrowErrno(env, "send the fd", errno);
  return env.Undefined();
}

// fs.closeSync of an fd a worker thread did not open builds a warning, stack trace and all, at
// each call: the server closes every fd a client sent.
Napi::Value CloseFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  if (close(fd) < 0 && errno != EINTR) ThrowErrno(env, "close", errno);
  return env.Undefined();
}

// Waits up to ms for fd to be readable or hung up: true if it is, false at the timeout (start's
// wait for the exec fifo's byte wakes when it is written, not at the next poll of a sleep loop).
Napi::Value PollIn(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  int ms = IntArg(info, 1, "ms");
  struct pollfd p = { fd, POLLIN, 0 };
  int r = poll(&p, 1, ms);
  if (r < 0 && errno != EINTR) ThrowErrno(env, "poll", errno);
  return Napi::Boolean::New(env, r > 0);
}

Napi::Value PeerCred(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) ThrowErrno(env, "getsockopt SO_PEERCRED", errno);
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, cred.pid));
  out.Set("uid", Napi::Number::New(env, cred.uid));
  out.Set("gid", Napi::Number::New(env, cred.gid));
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
  exports.Set("pidfdSendSignal",
              Napi::Function::New(env, PidfdSendSignal, "pidfdSendSignal"));
  exports.Set("setChildSubreaper",
              Napi::Function::New(env, SetChildSubreaper, "setChildSubreaper"));
  exports.Set("waitpidBlocking",
              Napi::Function::New(env, WaitpidBlocking, "waitpidBlocking"));
  exports.Set("socketpair", Napi::Function::New(env, Socketpair, "socketpair"));
  exports.Set("unixConnect", Napi::Function::New(env, UnixConnect, "unixConnect"));
  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
  exports.Set("waitExit", Napi::Function::New(env, WaitExit, "waitExit"));
  exports.Set("waitForwarding", Napi::Function::New(env, WaitForwarding, "waitForwarding"));
  exports.Set("forwardSignals", Napi::Function::New(env, ForwardSignals, "forwardSignals"));
  exports.Set("fnv1a64", Napi::Function::New(env, Fnv1a64, "fnv1a64"));
  exports.Set("exitNow", Napi::Function::New(env, ExitNow, "exitNow"));
  exports.Set("recvRequest", Napi::Function::New(env, RecvRequest, "recvRequest"));
  exports.Set("peerCred", Napi::Function::New(env, PeerCred, "peerCred"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("pollIn", Napi::Function::New(env, PollIn, "pollIn"));
  exports.Set("attachDeviceProgram",
              Napi::Function::New(env, AttachDeviceProgram, "attachDeviceProgram"));
  exports.Set("exchange", Napi::Function::New(env, Exchange, "exchange"));
  exports.Set("openPty", Napi::Function::New(env, OpenPty, "openPty"));
  exports.Set("sendFd", Napi::Function::New(env, SendFd, "sendFd"));
  return exports;
}

}  // namespace

NODE_API_MODULE(tsrun_native, Init)
