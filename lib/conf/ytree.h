/*
 * ytree.h - a YAML document as a plain tree, private to lib/conf.
 *
 * libyaml's event stream is turned into scalars, lists and mappings that
 * keep their 1-based line and column, so that the schema checks in conf.c
 * can say where each value stands.  Anchors, aliases and tags are refused,
 * and so is more than one document: a configuration file needs none of
 * them, and refusing them keeps every value in one place.
 */
#ifndef VNB_CONF_YTREE_H
#define VNB_CONF_YTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define YTREE_MAX_DEPTH 32

enum ynode_type {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
};

struct ynode {
	enum ynode_type type;
	int line, col; /* 1-based */
	/* scalar: NUL-terminated text; plain is false when it was quoted */
	char *str;
	bool plain;
	/* list: items[0..n); mapping: key, value, key, value, ... (n pairs) */
	struct ynode **items;
	size_t n;
	size_t used, cap; /* slots of items filled and allocated */
};

/* Parse buf into *root.  *root is NULL when the stream holds no document
 * at all (an empty file, or only comments).  -1 with errno EINVAL (ENOMEM)
 * and "NAME:LINE:COL: ..." in err. */
int ytree_parse(const char *buf, size_t len, const char *name,
		struct ynode **root, vnb_error_t *err);

/* Accepts NULL; keeps errno. */
void ytree_free(struct ynode *n);

/* True for a plain scalar that YAML reads as null: "", "~", "null". */
bool ytree_is_null(const struct ynode *n);

/* The value for key in a mapping, or NULL (first match). */
const struct ynode *ytree_get(const struct ynode *map, const char *key);

/* s made safe to quote in a one-line message: control and non-ASCII bytes
 * become '?', and a long text is cut with "...". */
const char *ytree_show(const char *s, char *buf, size_t size);

#endif
