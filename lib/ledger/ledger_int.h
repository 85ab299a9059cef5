/*
 * ledger_int.h - what ledger.c (the object and its file) shares with
 * txn.c (the claim, release and scrubbed transactions).  Not installed.
 */
#ifndef VNB_LEDGER_LEDGER_INT_H
#define VNB_LEDGER_LEDGER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"

/* 1..VNB_VNIC_ID_MAX-1 characters of [A-Za-z0-9._:-], not starting with
 * '.', '-' or ':'.  No space, so that the file stays one field per word. */
bool vnb_ledger_vnic_valid(const char *s);

/* Mark the ledger changed so that the next commit writes it. */
void vnb_ledger_touch(struct vnb_ledger *l);

/* The path that messages call the ledger file. */
const char *vnb_ledger_path(const struct vnb_ledger *l);

#endif
