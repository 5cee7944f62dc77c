/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 chunked framing (RFC 9112 §7.1), the decoder: see h1.h for the
 * contract (h1_chunked_feed and the rest), h1_priv.h for what it shares with
 * the head parser (h1.c).
 *
 * Chunked framing is read strictly: CRLF line ends only (the §2.2 leave to
 * take a bare LF for a line end covers the start line and header fields,
 * which the proxy writes again anyway; in chunk framing a bare LF is what
 * request smuggling between a LF-parser and a CRLF-parser is made of), chunk
 * extensions by their grammar, trailer fields as header fields.
 */
#include "secondary/http/h1.h"
#include "secondary/http/h1_priv.h"

#include <limits.h>
#include <string.h>

#define CHUNK_EXT_MAX   4096
#define TRAILER_MAX     4096
#define CHUNK_DIGITS    16

/* ---- chunked framing ------------------------------------------------------------- */

/*
 * The decoder's states. The state is kept in shared memory and a worker may
 * take over one a different binary wrote: values are never renumbered, new
 * states are added after CS_ERROR.
 */
enum {
	CS_SIZE0 = 0,   /* first hex digit of a chunk size */
	CS_SIZE,        /* more hex digits, or the rest of the size line */
	CS_SIZE_WS,     /* BWS after the size: only ";" may follow */
	CS_EXT_OLD,     /* an earlier decoder's lenient extensions: no longer entered, an error */
	CS_SIZE_LF,     /* CR of the size line seen */
	CS_DATA,
	CS_DATA_CR,     /* the CRLF after chunk data */
	CS_DATA_LF,
	CS_TRL_START,   /* start of a trailer field line or of the final empty line */
	CS_TRL_NAME,
	CS_TRL_VALUE,
	CS_TRL_LF,      /* CR of a trailer field line seen */
	CS_END_LF,      /* CR of the final empty line seen */
	CS_DONE,
	CS_ERROR,
	/* chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) */
	CS_EXT_NAME0,   /* after ";" (and BWS): the first byte of a name */
	CS_EXT_NAME,
	CS_EXT_NAME_WS, /* BWS after a name: "=" or ";" */
	CS_EXT_VAL0,    /* after "=" (and BWS): a token or a quoted-string */
	CS_EXT_VAL,     /* in a token value */
	CS_EXT_QUOTED,  /* in a quoted-string */
	CS_EXT_QPAIR,   /* after a backslash in a quoted-string */
	CS_EXT_VAL_END, /* after the closing quote */
	CS_EXT_VAL_WS,  /* BWS after a value: only ";" */
};

/* qdtext (RFC 9110 §5.6.4): HTAB, SP, VCHAR but '"' and '\', obs-text */
static bool is_qdtext(uint8_t c)
{
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) ||
	       c >= 0x80;
}

/* the byte after '\' in a quoted-pair: HTAB, SP, VCHAR, obs-text */
static bool is_qpair(uint8_t c)
{
	return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f);
}

/*
 * One byte of a size line after the hex digits: BWS, chunk extensions
 * (RFC 9112 §7.1.1) or the CR that ends the line. False when it cannot
 * be there. Every byte but the CR counts against CHUNK_EXT_MAX.
 */
static bool size_line_byte(struct h1_chunked *st, uint8_t ch)
{
	uint8_t s = st->state;

	if (ch == '\r') {
		if (s != CS_SIZE && s != CS_EXT_NAME && s != CS_EXT_VAL && s != CS_EXT_VAL_END)
			return false;   /* "5 \r", "5;\r", "5;a=\r", an open quoted-string... */
		st->state = CS_SIZE_LF;
		return true;
	}
	if (++st->ext_len > CHUNK_EXT_MAX)
		return false;
	switch (s) {
	case CS_SIZE:
	case CS_EXT_NAME:
	case CS_EXT_VAL:
	case CS_EXT_VAL_END:
		if (ch == ';')
			st->state = CS_EXT_NAME0;
		else if (is_ows(ch))
			st->state = s == CS_SIZE ? CS_SIZE_WS : s == CS_EXT_NAME ? CS_EXT_NAME_WS : CS_EXT_VAL_WS;
		else if (s == CS_EXT_NAME && ch == '=')
			st->state = CS_EXT_VAL0;
		else if (!((s == CS_EXT_NAME || s == CS_EXT_VAL) && (h1_cls[ch] & C_T)))
			return false;
		return true;
	case CS_SIZE_WS:
	case CS_EXT_VAL_WS:
	case CS_EXT_NAME_WS:
		if (ch == ';')
			st->state = CS_EXT_NAME0;
		else if (s == CS_EXT_NAME_WS && ch == '=')
			st->state = CS_EXT_VAL0;
		else if (!is_ows(ch))
			return false;
		return true;
	case CS_EXT_NAME0:
	case CS_EXT_VAL0:
		if (h1_cls[ch] & C_T)
			st->state = s == CS_EXT_NAME0 ? CS_EXT_NAME : CS_EXT_VAL;
		else if (s == CS_EXT_VAL0 && ch == '"')
			st->state = CS_EXT_QUOTED;
		else if (!is_ows(ch))
			return false;
		return true;
	case CS_EXT_QUOTED:
		if (ch == '"')
			st->state = CS_EXT_VAL_END;
		else if (ch == '\\')
			st->state = CS_EXT_QPAIR;
		else if (!is_qdtext(ch))
			return false;
		return true;
	case CS_EXT_QPAIR:
		if (!is_qpair(ch))
			return false;
		st->state = CS_EXT_QUOTED;
		return true;
	default:
		return false;
	}
}

/* The size line ended: data, or the trailer section after the last chunk. */
static void size_line_done(struct h1_chunked *st)
{
	st->ext_len = 0;
	if (st->remaining == 0) {
		st->trailer_len = 0;
		st->state = CS_TRL_START;
	} else {
		st->state = CS_DATA;
	}
}

uint64_t h1_chunked_data_left(const struct h1_chunked *st)
{
	return st->state == CS_DATA ? st->remaining : 0;
}

uint64_t h1_chunked_take(struct h1_chunked *st, uint64_t n)
{
	if (st->state != CS_DATA)
		return 0;
	if (n > st->remaining)
		n = st->remaining;
	st->remaining -= n;
	st->total += n;
	if (st->remaining == 0)
		st->state = CS_DATA_CR;
	return n;
}

size_t h1_chunk_head(uint64_t size, uint8_t out[H1_CHUNK_HEAD_MAX])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	int shift = 60;

	while (shift > 0 && (size >> shift) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		out[n++] = (uint8_t)hex[(size >> shift) & 15];
	out[n++] = '\r';
	out[n++] = '\n';
	return n;
}

long h1_chunked_feed(struct h1_chunked *st, const uint8_t *buf, size_t len, bool *done)
{
	size_t i = 0;

	if (done != NULL)
		*done = st->state == CS_DONE;
	if (st->state == CS_DONE)
		return 0;
	if (len > LONG_MAX)
		len = LONG_MAX;
	while (i < len) {
		uint8_t ch = buf[i];

		switch (st->state) {
		case CS_SIZE0:
			if (!(h1_cls[ch] & C_H))
				goto bad;
			st->remaining = 0;
			st->ndigits = 0;
			st->ext_len = 0;
			st->state = CS_SIZE;
			/* fall through */
		case CS_SIZE:
			if (h1_cls[ch] & C_H) {   /* the size line leaves CS_SIZE at its first other byte */
				unsigned int d = (h1_cls[ch] & C_D) ? (unsigned int)(ch - '0') : (unsigned int)(lower(ch) - 'a' + 10);

				if (st->ndigits >= CHUNK_DIGITS)
					goto bad;
				st->remaining = st->remaining * 16 + d;
				if (st->remaining > MAX_LENGTH)
					goto bad;
				st->ndigits++;
				i++;
				break;
			}
			/* the rest of the size line */
			/* fall through */
		case CS_SIZE_WS:
		case CS_EXT_NAME0:
		case CS_EXT_NAME:
		case CS_EXT_NAME_WS:
		case CS_EXT_VAL0:
		case CS_EXT_VAL:
		case CS_EXT_QUOTED:
		case CS_EXT_QPAIR:
		case CS_EXT_VAL_END:
		case CS_EXT_VAL_WS:
			if (!size_line_byte(st, ch))
				goto bad;
			i++;
			break;
		case CS_SIZE_LF:
			if (ch != '\n')
				goto bad;
			size_line_done(st);
			i++;
			break;
		case CS_DATA: {
			size_t take = len - i;

			if (take > st->remaining)
				take = (size_t)st->remaining;
			i += take;
			st->remaining -= take;
			st->total += take;
			if (st->remaining == 0)
				st->state = CS_DATA_CR;
			break;
		}
		case CS_DATA_CR:
			if (ch != '\r')
				goto bad;
			st->state = CS_DATA_LF;
			i++;
			break;
		case CS_DATA_LF:
			if (ch != '\n')
				goto bad;
			st->state = CS_SIZE0;
			i++;
			break;
		case CS_TRL_START:
			if (ch == '\r') {
				st->state = CS_END_LF;
				i++;
				break;
			}
			if (!(h1_cls[ch] & C_T))
				goto bad;       /* obs-fold, a bare LF, or not a field name */
			st->state = CS_TRL_NAME;
			goto count;
		case CS_TRL_NAME:
			if (ch == ':')
				st->state = CS_TRL_VALUE;
			else if (!(h1_cls[ch] & C_T))
				goto bad;
			goto count;
		case CS_TRL_VALUE:
			if (ch == '\r')
				st->state = CS_TRL_LF;
			else if (!(h1_cls[ch] & C_V))
				goto bad;
			goto count;
		case CS_TRL_LF:
			if (ch != '\n')
				goto bad;
			st->state = CS_TRL_START;
			goto count;
		case CS_END_LF:
			if (ch != '\n')
				goto bad;
			i++;
			goto finished;
		default:
			goto bad;       /* CS_ERROR (sticky), CS_EXT_OLD, or not a state */
		}
		continue;
count:
		if (++st->trailer_len > TRAILER_MAX)
			goto bad;
		i++;
	}
	return (long)i;
finished:
	st->state = CS_DONE;
	if (done != NULL)
		*done = true;
	return (long)i;
bad:
	st->state = CS_ERROR;
	return -400;
}
