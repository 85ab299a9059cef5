#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "conf/ytree.h"

void ytree_free(struct ynode *n)
{
	int saved = errno;
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->used; i++)
		ytree_free(n->items[i]);
	free(n->items);
	free(n->str);
	free(n);
	errno = saved;
}

bool ytree_is_null(const struct ynode *n)
{
	return n->type == YNODE_SCALAR && n->plain &&
	       (!n->str[0] || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
		!strcmp(n->str, "Null") || !strcmp(n->str, "NULL"));
}

const struct ynode *ytree_get(const struct ynode *map, const char *key)
{
	size_t i;

	if (!map || map->type != YNODE_MAP)
		return NULL;
	for (i = 0; i < map->n; i++) {
		const struct ynode *k = map->items[2 * i];

		if (k->type == YNODE_SCALAR && !strcmp(k->str, key))
			return map->items[2 * i + 1];
	}
	return NULL;
}

const char *ytree_show(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	buf[i] = '\0';
	if (s[i] && size > 4)
		memcpy(buf + size - 4, "...", 4);
	return buf;
}

/* Where the parser stands while it builds the tree. */
struct builder {
	const char *name;
	const char *buf;
	size_t len;
	vnb_error_t *err;
	struct ynode *root;
	struct ynode *stack[YTREE_MAX_DEPTH];
	size_t depth;
	int ndocs;
};

static int fail_at(struct builder *b, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct builder *b, int line, int col, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vnb_errprintf(b->err, "%s:%d:%d: %s", b->name, line, col, msg);
	errno = EINVAL;
	return -1;
}

/* A reader error has a byte offset, not a mark: count lines up to it. */
static void offset_mark(const struct builder *b, size_t off, int *line,
			int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < b->len; i++) {
		if (b->buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int syntax_error(struct builder *b, const yaml_parser_t *p)
{
	int line, col;

	if (p->error == YAML_MEMORY_ERROR) {
		vnb_errprintf(b->err, "%s: out of memory parsing YAML",
			      b->name);
		errno = ENOMEM;
		return -1;
	}
	if (p->error == YAML_READER_ERROR)
		offset_mark(b, p->problem_offset, &line, &col);
	else {
		line = (int)p->problem_mark.line + 1;
		col = (int)p->problem_mark.column + 1;
	}
	if (p->context)
		return fail_at(b, line, col,
			       "YAML syntax error: %s (%s at line %d, "
			       "column %d); fix the YAML syntax",
			       p->problem ? p->problem : "unknown problem",
			       p->context, (int)p->context_mark.line + 1,
			       (int)p->context_mark.column + 1);
	return fail_at(b, line, col,
		       "YAML syntax error: %s; fix the YAML syntax",
		       p->problem ? p->problem : "unknown problem");
}

static int add_child(struct builder *b, struct ynode *n)
{
	struct ynode *parent;

	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	parent = b->stack[b->depth - 1];
	if (parent->used == parent->cap) {
		size_t cap = parent->cap ? 2 * parent->cap : 8;
		struct ynode **items;

		items = realloc(parent->items, cap * sizeof(*items));
		if (!items)
			return -1;
		parent->items = items;
		parent->cap = cap;
	}
	parent->items[parent->used++] = n;
	parent->n = parent->type == YNODE_MAP ? parent->used / 2 : parent->used;
	return 0;
}

static struct ynode *new_node(enum ynode_type type, const yaml_mark_t *mark)
{
	struct ynode *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->type = type;
	n->line = (int)mark->line + 1;
	n->col = (int)mark->column + 1;
	return n;
}

/* One event into the tree.  Returns 1 at the end of the stream. */
static int take_event(struct builder *b, const yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	int line = (int)m->line + 1, col = (int)m->column + 1;
	const yaml_char_t *anchor = NULL, *tag = NULL;
	struct ynode *n = NULL;

	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_NO_EVENT:
		return 0;
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		if (++b->ndocs > 1)
			return fail_at(b, line, col,
				       "a second YAML document; the file "
				       "must hold exactly one (remove the "
				       "'---' line)");
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		return 0;
	case YAML_ALIAS_EVENT:
		return fail_at(b, line, col,
			       "aliases are not supported; write the value "
			       "out in full");
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		return 0;
	}
	if (anchor)
		return fail_at(b, line, col,
			       "anchors and aliases are not supported; write "
			       "the value out in full");
	if (tag)
		return fail_at(b, line, col,
			       "tags (!...) are not supported; remove the tag");
	if (ev->type == YAML_SCALAR_EVENT) {
		n = new_node(YNODE_SCALAR, m);
		if (!n)
			goto nomem;
		if (strlen((const char *)ev->data.scalar.value) !=
		    ev->data.scalar.length) {
			free(n);
			return fail_at(b, line, col,
				       "a string with a NUL character; remove "
				       "it");
		}
		n->str = strdup((const char *)ev->data.scalar.value);
		if (!n->str)
			goto nomem;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	} else {
		if (b->depth >= YTREE_MAX_DEPTH)
			return fail_at(b, line, col,
				       "nested deeper than %d levels; the "
				       "schema needs far fewer",
				       YTREE_MAX_DEPTH);
		n = new_node(ev->type == YAML_MAPPING_START_EVENT ? YNODE_MAP
								  : YNODE_SEQ,
			     m);
		if (!n)
			goto nomem;
	}
	if (add_child(b, n) < 0)
		goto nomem;
	if (n->type != YNODE_SCALAR)
		b->stack[b->depth++] = n;
	return 0;
nomem:
	ytree_free(n);
	vnb_errprintf(b->err, "%s: out of memory parsing YAML", b->name);
	errno = ENOMEM;
	return -1;
}

int ytree_parse(const char *buf, size_t len, const char *name,
		struct ynode **root, vnb_error_t *err)
{
	struct builder b = {.name = name, .buf = buf, .len = len, .err = err};
	yaml_parser_t parser;
	int rc = 0;

	*root = NULL;
	if (!yaml_parser_initialize(&parser)) {
		vnb_errprintf(err, "%s: out of memory parsing YAML", name);
		errno = ENOMEM;
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (rc == 0) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			rc = syntax_error(&b, &parser);
			break;
		}
		rc = take_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (rc < 0) {
		ytree_free(b.root);
		return -1;
	}
	*root = b.root;
	return 0;
}
