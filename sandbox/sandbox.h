#pragma once
// Runs one untrusted Python program (HumanEval / MBPP completions, checked as HF evaluate's metrics/code_eval does for
// lm-eval's lm_eval/tasks/{humaneval,mbpp}) in a Linux sandbox: new PID, network, mount, IPC and UTS namespaces (a user
// namespace too when not root), a uid of its own when root (a random one in [2e9, 2.1e9): RLIMIT_NPROC then counts this
// sandbox's processes only, and no host file belongs to it), a seccomp filter (no new namespaces, mount, ptrace, bpf,
// keyrings, perf events, kexec, modules, ...: EPERM), rlimits on CPU time, address space, file size, processes and open
// files, a memory and process cap on the whole process tree (a cgroup v2 of its own where the harness may create one,
// else a smaller per-process address space times a small process limit; see SandboxLimits), and a minimal read-only
// root: /usr, /bin, /lib*, /sbin, python3's own prefix, /etc/ld.so.cache, a few /dev nodes, a fresh /proc and fresh
// tmpfs /tmp, /var/tmp, /dev/shm (the throwaway work directory lives in that /tmp). /etc/passwd, /root, /home and the
// harness's folders do not exist in there. A wall-clock timeout kills the namespace's init, which makes the kernel kill
// every process in it. If the sandbox cannot be set up the run is refused (SandboxError): nothing runs unsandboxed.
// Torch-free; Linux only.
//
// A program passes only when it ran to its end: after the program the sandbox runs one statement that
// writes a per-run random token to an inherited pipe at a random descriptor number; neither the token
// nor the number is in the program's file, argv or environment (the runner that holds them arrives on
// stdin, which python reads to EOF before running anything). So exit(), sys.exit(0), os._exit(0),
// raise SystemExit, or an atexit hook / excepthook that exits with status 0 do not pass, as in HF
// evaluate's code_eval and openai/human-eval (execution.py), where "passed" is appended only after
// exec() of the check program returned.
#include <cstddef>
#include <string>

namespace gemma::sandbox {

enum class SandboxStatus {
  Passed,        // ran to the end of the program and exited with status 0
  Failed,        // exited with another status (an exception, a failed assert, MemoryError)
  TimedOut,      // still running at the wall-clock limit: killed with everything it started
  Killed,        // died of a signal (SIGXCPU: CPU limit, SIGXFSZ: file size limit, SIGSEGV, ...)
  ExitedEarly,   // exited with status 0 before the end of the program (sys.exit(0), os._exit(0), an atexit hook...)
  SandboxError,  // the sandbox itself could not be set up (no python3, no namespaces): not the program's fault
};
const char* to_string(SandboxStatus status);

struct SandboxLimits {
  double timeout_seconds = 3.0;  // wall clock, whole process tree
  int cpu_seconds = 0;           // RLIMIT_CPU per process; 0 = ceil(timeout) + 1
  // The memory of the whole process tree. With a cgroup v2 of its own: memory.max (swap 0) for the
  // tree plus RLIMIT_AS = memory_bytes per process (so one huge allocation is a MemoryError, not an
  // OOM kill). Without: RLIMIT_AS = memory_bytes / processes_without_cgroup per process and at most
  // processes_without_cgroup processes, so the tree still stays within memory_bytes.
  size_t memory_bytes = size_t{2} << 30;
  int processes_without_cgroup = 4;
  size_t file_size_bytes = size_t{16} << 20;  // RLIMIT_FSIZE
  size_t tmpfs_bytes = size_t{64} << 20;      // size of each tmpfs (/tmp with the work dir, /var/tmp, /dev/shm)
  int max_processes = 64;                     // pids.max of the cgroup and RLIMIT_NPROC of the sandbox uid
  int max_open_files = 256;                   // RLIMIT_NOFILE (at least 32)
  size_t output_tail_bytes = 4096;            // how much of the end of stdout and of stderr is kept
};

struct SandboxResult {
  SandboxStatus status = SandboxStatus::SandboxError;
  int exit_code = -1;  // Passed / Failed: the program's exit status
  int signal = 0;      // Killed: the signal
  double wall_seconds = 0.0;
  std::string stdout_tail;  // at most output_tail_bytes each: the END of the output
  std::string stderr_tail;
  std::string error;         // SandboxError: what failed; TimedOut: the limit
  bool reached_end = false;  // the end-of-program token arrived: the program ran to its last statement
  // How the tree's memory was capped: "cgroup v2 <dir>" or "rlimit: N processes x M bytes".
  std::string memory_cap;
};

// How the next sandbox will cap the memory of a program's tree on this machine (see SandboxLimits).
std::string sandbox_memory_cap_mode();

// Runs `program` (saved as <workdir>/program.py) under `python3 -B -` (python3 found on PATH, the
// first one the sandbox uid can execute), which execs it in __main__ with __file__ set and then writes
// the end-of-program token. Never throws for anything the program does.
SandboxResult run_python_sandboxed(const std::string& program, const SandboxLimits& limits = {});

// The scoring API: true iff the program runs to its end and exits with status 0 within the limits.
// Throws gemma::Error on SandboxError, so a broken sandbox fails the run instead of silently scoring
// every program 0.
bool python_program_passes(const std::string& program, const SandboxLimits& limits = {});

}  // namespace gemma::sandbox
