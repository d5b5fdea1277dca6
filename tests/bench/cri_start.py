#!/usr/bin/python3
"""Pod start latency through the CRI, as kubelet starts a pod: the wall
time of RunPodSandbox + CreateContainer + StartContainer (one container,
`sleep`), for each runtime handler in turn, alternating which goes
first; after each pod, StopPodSandbox and RemovePodSandbox (not timed).

    cri_start.py --socket PATH --image REF --log-dir DIR [--cgroup-parent P]
                 [-n N] [--warm W] [LABEL=]HANDLER...

Prints a markdown table: per handler the median and p90 of the total and
the median of each call, in ms.  The CRI stubs come from
tests/clients/cri/cri_pod.py (generated from its proto at each run).
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "cri"))
import cri_pod  # noqa: E402

CALLS = ("RunPodSandbox", "CreateContainer", "StartContainer")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--socket", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--log-dir", required=True)
    p.add_argument("--cgroup-parent", default="")
    p.add_argument("-n", type=int, default=20)
    p.add_argument("--warm", type=int, default=2)
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("handlers", nargs="+")
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        A, rpc = cri_pod.stubs(tmp)
        import grpc
        stub = rpc.RuntimeServiceStub(grpc.insecure_channel("unix://" + args.socket))

        def call(name, req):
            try:
                return getattr(stub, name)(req, timeout=args.timeout)
            except grpc.RpcError as e:
                sys.exit("FAIL %s: %s: %s" % (name, e.code().name, e.details()))

        label = {h.partition("=")[2] or h: h.partition("=")[0] for h in args.handlers}
        handlers = list(label)
        times = {h: {c: [] for c in CALLS + ("total",)} for h in handlers}

        def one_pod(handler, i):
            uid = "bench-%s-%d-%d" % (handler, os.getpid(), i)
            sc = A.PodSandboxConfig(
                metadata=A.PodSandboxMetadata(name=uid, uid=uid, namespace="default"),
                log_directory=os.path.join(args.log_dir, uid),
                linux=A.LinuxPodSandboxConfig(
                    cgroup_parent=args.cgroup_parent,
                    security_context=A.LinuxSandboxSecurityContext(
                        namespace_options=A.NamespaceOption(network=A.NODE, pid=A.CONTAINER, ipc=A.POD))))
            t = [time.monotonic()]
            pod = call("RunPodSandbox", A.RunPodSandboxRequest(config=sc, runtime_handler=handler)).pod_sandbox_id
            t.append(time.monotonic())
            cid = call("CreateContainer", A.CreateContainerRequest(
                pod_sandbox_id=pod, sandbox_config=sc,
                config=A.ContainerConfig(
                    metadata=A.ContainerMetadata(name="app"), image=A.ImageSpec(image=args.image),
                    command=["sleep", "1000"], log_path="app.log",
                    linux=A.LinuxContainerConfig()))).container_id
            t.append(time.monotonic())
            call("StartContainer", A.StartContainerRequest(container_id=cid))
            t.append(time.monotonic())
            call("StopPodSandbox", A.StopPodSandboxRequest(pod_sandbox_id=pod))
            call("RemovePodSandbox", A.RemovePodSandboxRequest(pod_sandbox_id=pod))
            return [(b - a) * 1e3 for a, b in zip(t, t[1:])]

        for i in range(-args.warm, args.n):
            order = handlers if i % 2 == 0 else handlers[::-1]
            for h in order:
                d = one_pod(h, i + args.warm)
                if i < 0:
                    continue
                for c, ms in zip(CALLS, d):
                    times[h][c].append(ms)
                times[h]["total"].append(sum(d))

    print("| shim (handler) | pods | start median ms | p90 ms | RunPodSandbox ms | CreateContainer ms | StartContainer ms |")
    print("|---|---|---|---|---|---|---|")
    for h in handlers:
        t = times[h]
        print("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f |" % (
            label[h], args.n, pct(t["total"], 0.5), pct(t["total"], 0.9),
            pct(t["RunPodSandbox"], 0.5), pct(t["CreateContainer"], 0.5), pct(t["StartContainer"], 0.5)))


if __name__ == "__main__":
    main()
