/* spec_netdev: config.json's "linux.netDevices" (runtime-spec 1.3): host
 * interfaces to move into the container's network namespace, by host name,
 * each with an optional name inside.  Names are checked as the kernel
 * checks interface names, so that a bad one is refused at create. */
#include "skiff/spec/parse.h"

#include <stdlib.h>
#include <string.h>

/* IFNAMSIZ - 1 bytes, no '/', ':' or blank, not "." or "..". */
static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || (unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/* The name the device gets inside: a "%d" template lets the kernel pick. */
static const char *inner_name(const struct sk_net_device *d)
{
	return d->name ? d->name : d->host;
}

int sk_spec_read_net_devices(struct sk_jwalk *c, const struct sk_jv *o, struct sk_linux *l)
{
	char q[SK_JQUOTE_MAX];
	size_t mark;
	const struct sk_jv *v = sk_jenter(c, o, "netDevices", &mark);
	if (!v) {
		sk_jleave(c, mark);
		return 0;
	}
	if (sk_jwant_obj(c, v))
		return -1;
	l->net_devices = calloc(v->n ? v->n : 1, sizeof(*l->net_devices));
	if (!l->net_devices)
		return sk_joom(c);
	for (size_t i = 0; i < v->n; i++) {
		const struct sk_jv *item = &v->u.items[i];
		size_t m = sk_jenter_map_key(c, item->key);
		struct sk_net_device *d = &l->net_devices[l->n_net_devices];
		if (sk_jdup(c, item->key, &d->host))
			return -1;
		l->n_net_devices++;
		if (!ifname_ok(d->host))
			return sk_jfail(c, "invalid host interface name %s", sk_jquote(q, d->host));
		if (sk_jwant_obj(c, item) || sk_jget_str(c, item, "name", false, &d->name))
			return -1;
		if (d->name && !*d->name) {
			free(d->name);
			d->name = NULL;
		}
		if (d->name && !ifname_ok(d->name)) {
			sk_jenter_key(c, "name");
			return sk_jfail(c, "invalid interface name %s", sk_jquote(q, d->name));
		}
		for (size_t j = 0; j < i; j++)
			if (!strstr(inner_name(d), "%d") && strcmp(inner_name(&l->net_devices[j]), inner_name(d)) == 0)
				return sk_jfail(c, "two devices named %s in the container", sk_jquote(q, inner_name(d)));
		sk_jleave(c, m);
	}
	sk_jleave(c, mark);
	return 0;
}
