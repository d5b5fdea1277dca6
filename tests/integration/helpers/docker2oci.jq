# docker2oci.jq: a seccomp profile in Docker's format (Docker's and
# podman's default.json, /usr/share/containers/seccomp.json) -> the
# linux.seccomp object of config.json, as podman applies it.
#
#   jq -f docker2oci.jq [--arg arch SCMP_ARCH_X86_64] [--arg goarch amd64]
#      [--argjson caps '["CAP_CHOWN", ...]'] [--arg kernel 6.1] PROFILE
#
# arch: the native architecture; its archMap entry gives architectures
# (the native one and its subarchitectures; without archMap, Docker's older
# "architectures" list is kept as is).  goarch: the name that
# includes/excludes.arches use for it.  caps: the container's capabilities
# (default: podman's default_capabilities of containers.conf).  kernel:
# "major.minor" for includes.minKernel (default: any minKernel applies).
# A rule is kept when no excluded arch is goarch, no excluded cap is in caps,
# includes.arches (when present) has goarch, every included cap is in caps and
# minKernel is at most kernel.  Kept: names (or Docker's older single name),
# action, args, errnoRet; dropped: comment, errno (the name of errnoRet),
# includes, excludes.

def podman_caps: ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"];

# "6.1.0-13-amd64" -> [6, 1]
def version: [scan("[0-9]+")] | .[0:2] | map(tonumber);

($ARGS.named.arch // "SCMP_ARCH_X86_64") as $arch
| ($ARGS.named.goarch // "amd64") as $goarch
| ($ARGS.named.caps // podman_caps) as $caps
| ($ARGS.named.kernel // null) as $kernel
| def applies:
	(.excludes // {}) as $ex | (.includes // {}) as $in
	| ((($ex.arches // []) | index([$goarch])) | not)
	and ([($ex.caps // [])[] | select(. as $c | $caps | index([$c]))] == [])
	and ((($in.arches // []) == []) or (($in.arches | index([$goarch])) != null))
	and ([($in.caps // [])[] | select(. as $c | $caps | index([$c]) | not)] == [])
	and ($in.minKernel == null or $kernel == null or (($in.minKernel | version) <= ($kernel | version)));
(.architectures // [$arch]) as $old_arches
| {
	defaultAction
}
+ (if .defaultErrnoRet != null then {defaultErrnoRet} else {} end)
+ {
	architectures: (
		[.archMap // [] | .[] | select(.architecture == $arch) | [.architecture] + (.subArchitectures // [])]
		| .[0] // $old_arches),
	syscalls: [
		.syscalls[] | select(applies)
		| {names: (.names // [.name]), action}
		+ (if (.args // []) != [] then {args} else {} end)
		+ (if .errnoRet != null then {errnoRet} else {} end)
	]
}
