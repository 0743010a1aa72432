/*
 * sheet.h - a table written as a spreadsheet file (src/report/sheet.c):
 * CSV the way Excel and WPS read Chinese (UTF-8 with a BOM, CRLF, RFC 4180
 * quoting) and XLSX (one sheet, through libxlsxwriter), plus the
 * Content-Disposition that names the download in Chinese (RFC 6266 with
 * RFC 5987's filename*).
 *
 * A table is JSON: {"title","columns":[text...],"rows":[[cell...]...]}
 * where a cell is a string, a number or null (an empty cell).
 */
#ifndef CONVENE_SHEET_H
#define CONVENE_SHEET_H

#include <jansson.h>
#include <stddef.h>

#define SHEET_MAX_BYTES (16 * 1024 * 1024) /* a report's file; reports are a few hundred rows */

/* The table as CSV: malloc'd bytes in *out, their length in *len. 0, or -1 when too large. */
int sheet_csv(json_t *sheet, char **out, size_t *len);

/*
 * The table as an XLSX workbook, built in a private temporary file under
 * tmpdir (libxlsxwriter 1.1 writes files only) that is removed before this
 * returns. Touches nothing shared, so it may run on a worker thread.
 * 0 with malloc'd bytes in *out, or -1 (logged).
 */
int sheet_xlsx(json_t *sheet, const char *tmpdir, char **out, size_t *len);

/*
 * `attachment; filename="<ascii>.<ext>"; filename*=UTF-8''<file, %-encoded>.<ext>`
 * into out (cap bytes). 0, or -1 when it does not fit.
 */
int sheet_disposition(const char *file, const char *ascii, const char *ext, char *out,
                      size_t cap);

#endif
