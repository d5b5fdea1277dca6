#!/usr/bin/python3
"""A pod's life as kubelet drives it, over the CRI (runtime.v1) of a
container runtime's socket: one sandbox with the host network (no CNI),
two containers (one long-lived, one that exits by itself), ExecSync, the
CRI log file, ContainerStats and ListContainerStats, then stop and removal
of everything.  --one-shim adds a container and checks that the pod has
one shim; --restart-hook FILE then has containerd restarted mid-pod: the
script creates FILE.ready and waits for FILE.go (the caller restarts
containerd in between, while a container exits), reconnects, and checks
ListContainers, ContainerStatus and exit codes before going on.

    cri_pod.py --socket PATH --handler NAME --image REF --log-dir DIR
               [--cgroup-parent PATH] [--timeout S] [--one-shim]
               [--restart-hook FILE] [--memory-limit BYTES]
               [--update-memory BYTES] [--hook CMD]

--hook CMD runs `CMD STAGE POD-ID APP-ID [SIDE-ID]` (through sh) while
the containers run: STAGE "running" once they all run (after the stats),
"updated" after UpdateContainerResources; the pod fails if CMD does.

Prints one line per call; exits 1 at the first call that fails or
returns what kubelet would not accept.  Needs python3-grpcio and
python3-grpc-tools (the stubs are generated from runtime_v1_subset.proto
beside this file, into a temporary directory, at each run).
"""
import argparse
import importlib
import os
import re
import subprocess
import sys
import tempfile
import time

import grpc
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = "runtime_v1_subset.proto"


def stubs(tmp):
    """api (messages) and the RuntimeService stub class."""
    rc = protoc.main(["protoc", "-I" + HERE, "--python_out=" + tmp, "--grpc_python_out=" + tmp,
                      os.path.join(HERE, PROTO)])
    if rc != 0:
        sys.exit("protoc failed on %s" % PROTO)
    sys.path.insert(0, tmp)
    base = PROTO[:-len(".proto")]
    return importlib.import_module(base + "_pb2"), importlib.import_module(base + "_pb2_grpc")


class Pod:
    def __init__(self, api, stub, args):
        self.api, self.stub, self.args = api, stub, args

    def call(self, name, req, timeout=None):
        try:
            rsp = getattr(self.stub, name)(req, timeout=timeout or self.args.timeout)
        except grpc.RpcError as e:
            sys.exit("FAIL %s: %s: %s" % (name, e.code().name, e.details()))
        return rsp

    def status(self, cid):
        return self.call("ContainerStatus", self.api.ContainerStatusRequest(container_id=cid)).status

    def wait_state(self, cid, state, limit=60):
        end = time.time() + limit
        while True:
            st = self.status(cid)
            if st.state == state:
                return st
            if time.time() > end:
                sys.exit("FAIL ContainerStatus: %s is %s after %ds, not %s" % (
                    cid[:12], self.api.ContainerState.Name(st.state), limit,
                    self.api.ContainerState.Name(state)))
            time.sleep(0.2)


def shims_of(socket):
    """The pids of the shims started by the containerd at socket."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]).startswith(b"containerd-shim") and \
                b"-address" in argv and socket.encode() in argv:
            pids.append(int(d))
    return pids


def check_stats(st, what):
    if not st.HasField("cpu") or st.cpu.usage_core_nano_seconds.value <= 0:
        sys.exit("FAIL %s: no cpu usage: %r" % (what, st.cpu))
    if not st.HasField("memory") or st.memory.working_set_bytes.value <= 0:
        sys.exit("FAIL %s: no memory working set: %r" % (what, st.memory))


def restart(pod, args, A, channel, pod_id, app, side):
    """containerd restarted while the pod runs: a container that exits
    meanwhile, the others running, and every call answered again."""
    def create(name, command):
        cid = pod.call("CreateContainer", A.CreateContainerRequest(
            pod_sandbox_id=pod_id, sandbox_config=pod.sandbox_config,
            config=A.ContainerConfig(metadata=A.ContainerMetadata(name=name), image=A.ImageSpec(image=args.image),
                                     command=command, log_path=name + ".log",
                                     linux=A.LinuxContainerConfig()))).container_id
        pod.call("StartContainer", A.StartContainerRequest(container_id=cid))
        return cid
    job = create("ends-meanwhile", ["sh", "-c", "sleep 2; exit 5"])
    pod.wait_state(job, A.CONTAINER_RUNNING)
    channel.close()
    open(args.restart_hook + ".ready", "w").close()
    print("containerd restart: asked")
    end = time.time() + args.timeout
    while not os.path.exists(args.restart_hook + ".go"):
        if time.time() > end:
            sys.exit("FAIL restart: containerd was not restarted within %ds" % args.timeout)
        time.sleep(0.2)
    pod.channel = grpc.insecure_channel("unix://" + args.socket)
    from importlib import import_module
    rpc = import_module(PROTO[:-len(".proto")] + "_pb2_grpc")
    pod.stub = rpc.RuntimeServiceStub(pod.channel)
    while True:
        try:
            pod.stub.Version(A.VersionRequest(version="v1"), timeout=5)
            break
        except grpc.RpcError:
            if time.time() > end:
                sys.exit("FAIL restart: the CRI did not answer again")
            time.sleep(0.5)
    print("containerd restart: the CRI answers again")
    cs = pod.call("ListContainers", A.ListContainersRequest(
        filter=A.ContainerFilter(pod_sandbox_id=pod_id))).containers
    states = {c.id: c.state for c in cs}
    for cid in (app, side, job):
        if cid not in states:
            sys.exit("FAIL ListContainers after the restart: %s missing from %r" % (cid[:12], list(states)))
    for cid in (app, side):
        if states[cid] != A.CONTAINER_RUNNING:
            sys.exit("FAIL ListContainers after the restart: %s is %s" % (cid[:12], A.ContainerState.Name(states[cid])))
    print("ListContainers after the restart: %d containers" % len(cs))
    st = pod.wait_state(job, A.CONTAINER_EXITED, 30)
    if st.exit_code != 5:
        sys.exit("FAIL ContainerStatus after the restart: the exit code is %d, want 5" % st.exit_code)
    print("ContainerStatus after the restart: exited meanwhile with 5")
    if pod.status(app).state != A.CONTAINER_RUNNING:
        sys.exit("FAIL ContainerStatus after the restart: app is not running")
    ex = pod.call("ExecSync", A.ExecSyncRequest(container_id=app, cmd=["sh", "-c", "echo alive"], timeout=30))
    if (ex.stdout, ex.exit_code) != (b"alive\n", 0):
        sys.exit("FAIL ExecSync after the restart: %r, %d" % (ex.stdout, ex.exit_code))
    check_stats(pod.call("ContainerStats", A.ContainerStatsRequest(container_id=app)).stats,
                "ContainerStats after the restart")
    print("ExecSync and ContainerStats after the restart")
    if len(shims_of(args.socket)) != 1:
        sys.exit("FAIL after the restart: %d shims" % len(shims_of(args.socket)))
    pod.call("RemoveContainer", A.RemoveContainerRequest(container_id=job))
    print("RemoveContainer after the restart")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--socket", required=True)
    p.add_argument("--handler", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--log-dir", required=True)
    p.add_argument("--cgroup-parent", default="")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--one-shim", action="store_true",
                   help="a second long-running container; check that the pod's containers share one shim")
    p.add_argument("--restart-hook", default="",
                   help="with --one-shim: FILE.ready, then wait for FILE.go (containerd restarted)")
    p.add_argument("--memory-limit", type=int, default=256 << 20, help="the app container's memory limit")
    p.add_argument("--update-memory", type=int, default=0,
                   help="UpdateContainerResources: the app container's new memory limit")
    p.add_argument("--hook", default="", help="a command run at each stage (see above)")
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        api, rpc = stubs(tmp)
        channel = grpc.insecure_channel("unix://" + args.socket)
        pod = Pod(api, rpc.RuntimeServiceStub(channel), args)
        pod.channel = channel
        A = api

        v = pod.call("Version", A.VersionRequest(version="v1"))
        print("Version: %s %s (CRI %s)" % (v.runtime_name, v.runtime_version, v.runtime_api_version))

        sandbox_config = A.PodSandboxConfig(
            metadata=A.PodSandboxMetadata(name="skiff-pod", uid="skiff-pod-uid-1", namespace="default"),
            # No hostname: kubelet sets none for a host-network pod (it
            # shares the host's UTS namespace).
            log_directory=args.log_dir,
            labels={"app": "skiff-test"},
            linux=A.LinuxPodSandboxConfig(
                cgroup_parent=args.cgroup_parent,
                security_context=A.LinuxSandboxSecurityContext(
                    namespace_options=A.NamespaceOption(network=A.NODE, pid=A.CONTAINER, ipc=A.POD))))
        pod.sandbox_config = sandbox_config
        pod_id = pod.call("RunPodSandbox", A.RunPodSandboxRequest(
            config=sandbox_config, runtime_handler=args.handler)).pod_sandbox_id
        print("RunPodSandbox: %s" % pod_id[:12])

        def create(name, command, memory=256 << 20):
            cid = pod.call("CreateContainer", A.CreateContainerRequest(
                pod_sandbox_id=pod_id, sandbox_config=sandbox_config,
                config=A.ContainerConfig(
                    metadata=A.ContainerMetadata(name=name), image=A.ImageSpec(image=args.image),
                    command=command, envs=[A.KeyValue(key="GREETING", value="hello")],
                    log_path=name + ".log", labels={"container": name},
                    # kubelet's resources for a Burstable container with a
                    # memory limit: the memory controller is then the
                    # container's whatever the runtime enables by default.
                    linux=A.LinuxContainerConfig(resources=A.LinuxContainerResources(
                        cpu_shares=2, memory_limit_in_bytes=memory))))).container_id
            print("CreateContainer %s: %s" % (name, cid[:12]))
            pod.call("StartContainer", A.StartContainerRequest(container_id=cid))
            print("StartContainer %s" % name)
            return cid

        # sleep as pid 1 ignores TERM: StopContainer must end with KILL.
        app = create("app", ["sh", "-c", 'echo "$GREETING from skiff"; echo to-stderr >&2; exec sleep 1000'],
                     args.memory_limit)
        st = pod.wait_state(app, A.CONTAINER_RUNNING)
        print("ContainerStatus app: RUNNING, log %s" % st.log_path)

        ex = pod.call("ExecSync", A.ExecSyncRequest(
            container_id=app, cmd=["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=30))
        if (ex.stdout, ex.stderr, ex.exit_code) != (b"out\n", b"err\n", 3):
            sys.exit("FAIL ExecSync: got stdout %r, stderr %r, exit code %d" % (ex.stdout, ex.stderr, ex.exit_code))
        print("ExecSync: exit code 3, stdout and stderr apart")
        # A command that cannot start is the call's error (containerd
        # passes on the runtime's message), as with runc.
        try:
            ex = pod.stub.ExecSync(A.ExecSyncRequest(container_id=app, cmd=["nosuchcommand"], timeout=30),
                                   timeout=args.timeout)
            sys.exit("FAIL ExecSync of a missing command: no error (exit code %d)" % ex.exit_code)
        except grpc.RpcError as e:
            if "executable file not found" not in e.details():
                sys.exit("FAIL ExecSync of a missing command: %s: %s" % (e.code().name, e.details()))
        print("ExecSync of a missing command: the runtime's error")

        # The CRI log format: "TIMESTAMP STREAM P|F TEXT".
        log = os.path.join(args.log_dir, "app.log")
        end = time.time() + 30
        lines = []
        while time.time() < end:
            if os.path.exists(log):
                with open(log) as f:
                    lines = f.read().splitlines()
                if len(lines) >= 2:
                    break
            time.sleep(0.2)
        want = [("stdout", "hello from skiff"), ("stderr", "to-stderr")]
        got = []
        for line in lines:
            m = re.match(r"^\S+ (stdout|stderr) F (.*)$", line)
            if not m:
                sys.exit("FAIL log %s: not a CRI log line: %r" % (log, line))
            got.append((m.group(1), m.group(2)))
        if sorted(got) != sorted(want):
            sys.exit("FAIL log %s: got %r, want %r" % (log, got, want))
        print("log file: %d CRI lines" % len(lines))

        # Stats, as kubelet's summary reads them: the shim's metrics
        # (cgroup v1 or v2) turned into CRI's cpu and memory usage.
        st = pod.call("ContainerStats", A.ContainerStatsRequest(container_id=app)).stats
        check_stats(st, "ContainerStats app")
        print("ContainerStats app: cpu %d ns, working set %d bytes" % (
            st.cpu.usage_core_nano_seconds.value, st.memory.working_set_bytes.value))
        sts = pod.call("ListContainerStats", A.ListContainerStatsRequest(
            filter=A.ContainerStatsFilter(pod_sandbox_id=pod_id))).stats
        if app not in [x.attributes.id for x in sts]:
            sys.exit("FAIL ListContainerStats: app is not among %r" % [x.attributes.id[:12] for x in sts])
        for x in sts:
            check_stats(x, "ListContainerStats %s" % x.attributes.metadata.name)
        print("ListContainerStats: %d containers" % len(sts))

        side = None
        if args.one_shim:
            # A second long-running container: the sandbox, app and it in
            # one shim (the sandbox-id annotation groups them).
            side = create("side", ["sleep", "1000"])
            pod.wait_state(side, A.CONTAINER_RUNNING)
            shims = shims_of(args.socket)
            if len(shims) != 1:
                sys.exit("FAIL one shim per pod: %d shims serve this containerd: %r" % (len(shims), shims))
            print("one shim for the pod's 3 containers")
            if args.restart_hook:
                restart(pod, args, api, channel, pod_id, app, side)

        def hook(stage):
            if not args.hook:
                return
            argv = [stage, pod_id, app] + ([side] if side else [])
            r = subprocess.run(["sh", "-c", args.hook + ' "$@"', "hook"] + argv, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                sys.exit("FAIL hook %s (exit %d):\n%s" % (stage, r.returncode, r.stdout))
            print("hook %s: ok" % stage)

        hook("running")
        if args.update_memory:
            pod.call("UpdateContainerResources", A.UpdateContainerResourcesRequest(
                container_id=app, linux=A.LinuxContainerResources(memory_limit_in_bytes=args.update_memory)))
            print("UpdateContainerResources app: memory %d" % args.update_memory)
            hook("updated")

        if side:
            pod.call("StopContainer", A.StopContainerRequest(container_id=side, timeout=2))
            st = pod.wait_state(side, A.CONTAINER_EXITED, 30)
            # Ended by StopContainer's TERM or its KILL.
            if st.exit_code not in (137, 143):
                sys.exit("FAIL StopContainer side: exit code %d, want 137 or 143" % st.exit_code)
            pod.call("RemoveContainer", A.RemoveContainerRequest(container_id=side))

        # A container that exits by itself: stopping it after is kubelet's
        # routine (containerd then runs `kill` on a stopped container).
        job = create("job", ["sh", "-c", "exit 7"])
        st = pod.wait_state(job, A.CONTAINER_EXITED)
        if st.exit_code != 7:
            sys.exit("FAIL ContainerStatus job: exit code %d, want 7" % st.exit_code)
        print("ContainerStatus job: EXITED, exit code 7")

        for name, cid in (("job", job), ("app", app)):
            pod.call("StopContainer", A.StopContainerRequest(container_id=cid, timeout=2))
            st = pod.wait_state(cid, A.CONTAINER_EXITED, 30)
            print("StopContainer %s: EXITED, exit code %d" % (name, st.exit_code))
            pod.call("RemoveContainer", A.RemoveContainerRequest(container_id=cid))
            print("RemoveContainer %s" % name)

        pod.call("StopPodSandbox", A.StopPodSandboxRequest(pod_sandbox_id=pod_id))
        print("StopPodSandbox")
        pod.call("RemovePodSandbox", A.RemovePodSandboxRequest(pod_sandbox_id=pod_id))
        print("RemovePodSandbox")


if __name__ == "__main__":
    main()
