// native.cc - what Node lacks, for the TypeScript runtime (src/native/).
// Only these functions; each throws an Error with the errno text on failure:
//   flock(fd, 'sh'|'ex'|'un', nonblock): void
//   pidfdOpen(pid): number
//   pidfdSendSignal(pidfd, sig): void
//   setChildSubreaper(): void
//   waitpidBlocking(pid): { code?: number, signal?: number }
#include <napi.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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
  pid_t r;
  do r = waitpid(pid, &status, 0); while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(env, "waitpid", errno);
  Napi::Object out = Napi::Object::New(env);
  if (WIFEXITED(status))
    out.Set("code", Napi::Number::New(env, WEXITSTATUS(status)));
  else if (WIFSIGNALED(status))
    out.Set("signal", Napi::Number::New(env, WTERMSIG(status)));
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
  return exports;
}

}  // namespace

NODE_API_MODULE(tsrun_native, Init)
