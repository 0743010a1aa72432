/*
 * sheet.c - tables as spreadsheet files (sheet.h). The reports' JSON is
 * turned into a table by booking/report_sheet.c; this file only writes
 * bytes, so CSV and XLSX hold the same header and rows by construction.
 */
#include "convene/sheet.h"

#include "convene/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

/* ---------------- CSV ---------------- */

/*
 * One CSV field (RFC 4180). Text a spreadsheet would run as a formula
 * (= + - @ first) is written as '... so a meeting's kind or a department's
 * name cannot become one.
 */
static void csv_text(struct strbuf *out, const char *s)
{
    int formula = s[0] != '\0' && strchr("=+-@", s[0]) != NULL;
    int quote = formula || strpbrk(s, ",\"\r\n") != NULL;

    strbuf_puts(out, formula ? "\"'" : quote ? "\"" : "");
    for (const char *p = s; *p; p++)
        strbuf_append(out, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1); /* a quote, twice */
    if (quote)
        strbuf_puts(out, "\"");
}

static void csv_cell(struct strbuf *out, json_t *v)
{
    if (json_is_integer(v))
        strbuf_printf(out, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        strbuf_printf(out, "%.10g", json_real_value(v));
    else if (json_is_string(v))
        csv_text(out, json_string_value(v));
}

static void csv_line(struct strbuf *out, json_t *cells)
{
    json_t *v;
    size_t i;

    json_array_foreach(cells, i, v) {
        if (i > 0)
            strbuf_puts(out, ",");
        csv_cell(out, v);
    }
    strbuf_puts(out, "\r\n");
}

int sheet_csv(json_t *sheet, char **out, size_t *len)
{
    struct strbuf sb;
    json_t *row;
    size_t i;

    strbuf_init(&sb, SHEET_MAX_BYTES);
    /* A BOM: Excel otherwise reads UTF-8 (the Chinese header) as the local code page. */
    strbuf_puts(&sb, "\xEF\xBB\xBF");
    csv_line(&sb, json_object_get(sheet, "columns"));
    json_array_foreach(json_object_get(sheet, "rows"), i, row) {
        csv_line(&sb, row);
    }
    if (sb.overflow) {
        strbuf_free(&sb);
        return -1;
    }
    *out = strbuf_detach(&sb, len);
    return 0;
}

/* ---------------- XLSX ---------------- */

/* The widest cell of each column, in display columns, for the sheet's column widths. */
static void fit_widths(json_t *sheet, double widths[], size_t ncols)
{
    json_t *row, *v;
    size_t i, c;

    for (c = 0; c < ncols; c++)
        widths[c] = (double)utf8_display_width(
                        json_string_value(json_array_get(json_object_get(sheet, "columns"), c))) +
                    2;
    json_array_foreach(json_object_get(sheet, "rows"), i, row) {
        json_array_foreach(row, c, v) {
            double w = json_is_string(v) ? (double)utf8_display_width(json_string_value(v)) + 2 : 10;
            if (c < ncols && w > widths[c])
                widths[c] = w > 80 ? 80 : w;
        }
    }
}

static lxw_error write_row(lxw_worksheet *ws, lxw_row_t r, json_t *cells, lxw_format *fmt)
{
    json_t *v;
    size_t c;
    lxw_error rc = LXW_NO_ERROR;

    json_array_foreach(cells, c, v) {
        if (json_is_number(v))
            rc = worksheet_write_number(ws, r, (lxw_col_t)c, json_number_value(v), fmt);
        else if (json_is_string(v))
            rc = worksheet_write_string(ws, r, (lxw_col_t)c, json_string_value(v), fmt);
        if (rc != LXW_NO_ERROR)
            return rc;
    }
    return rc;
}

/* Writes the workbook to path. 0 or -1 (logged). */
static int xlsx_write(json_t *sheet, const char *path)
{
    lxw_workbook *wb = workbook_new(path);
    lxw_worksheet *ws;
    lxw_format *bold;
    json_t *columns = json_object_get(sheet, "columns"), *row;
    size_t ncols = json_array_size(columns), i;
    double widths[64];
    lxw_error rc;

    if (wb == NULL) {
        log_error("%s: cannot create a workbook at %s", __func__, path);
        return -1;
    }
    ws = workbook_add_worksheet(wb, json_string_value(json_object_get(sheet, "title")));
    bold = workbook_add_format(wb);
    format_set_bold(bold);
    rc = ws == NULL ? LXW_ERROR_MEMORY_MALLOC_FAILED : write_row(ws, 0, columns, bold);
    json_array_foreach(json_object_get(sheet, "rows"), i, row) {
        if (rc == LXW_NO_ERROR)
            rc = write_row(ws, (lxw_row_t)(i + 1), row, NULL);
    }
    if (ncols > 64)
        ncols = 64;
    fit_widths(sheet, widths, ncols);
    for (i = 0; rc == LXW_NO_ERROR && i < ncols; i++)
        worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, widths[i], NULL);
    if (rc == LXW_NO_ERROR)
        worksheet_freeze_panes(ws, 1, 0);
    if (workbook_close(wb) != LXW_NO_ERROR || rc != LXW_NO_ERROR) {
        log_error("%s: libxlsxwriter failed: %s", __func__, lxw_strerror(rc));
        return -1;
    }
    return 0;
}

static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct strbuf sb;
    char buf[65536];
    size_t n;

    if (f == NULL)
        return -1;
    strbuf_init(&sb, SHEET_MAX_BYTES);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        strbuf_append(&sb, buf, n);
    fclose(f);
    if (sb.overflow) {
        strbuf_free(&sb);
        return -1;
    }
    *out = strbuf_detach(&sb, len);
    return 0;
}

int sheet_xlsx(json_t *sheet, const char *tmpdir, char **out, size_t *len)
{
    char path[4096];
    int fd, rc;

    snprintf(path, sizeof(path), "%s/convene-report-XXXXXX", tmpdir ? tmpdir : "/tmp");
    /* mkstemp: a name no one else can take (0600), then libxlsxwriter writes over it. */
    if ((fd = mkstemp(path)) < 0) {
        log_error("%s: mkstemp in %s: %s", __func__, tmpdir ? tmpdir : "/tmp", strerror(errno));
        return -1;
    }
    close(fd);
    rc = xlsx_write(sheet, path);
    if (rc == 0 && read_file(path, out, len) != 0) {
        log_error("%s: cannot read back %s", __func__, path);
        rc = -1;
    }
    unlink(path);
    return rc;
}

/* ---------------- Content-Disposition ---------------- */

/* RFC 5987 attr-char: sent as is; every other byte is %-encoded. */
static int attr_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("!#$&+-.^_`|~", c) != NULL;
}

int sheet_disposition(const char *file, const char *ascii, const char *ext, char *out,
                      size_t cap)
{
    struct strbuf sb;
    int rc;

    strbuf_init(&sb, cap - 1);
    strbuf_puts(&sb, "attachment; filename=\"");
    /* The fallback for old clients: plain ASCII, no quote or backslash to escape. */
    for (const char *p = ascii; *p; p++)
        if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f && *p != '"' && *p != '\\')
            strbuf_append(&sb, p, 1);
    strbuf_printf(&sb, ".%s\"; filename*=UTF-8''", ext);
    for (const unsigned char *p = (const unsigned char *)file; *p; p++) {
        if (attr_char(*p))
            strbuf_append(&sb, (const char *)p, 1);
        else
            strbuf_printf(&sb, "%%%02X", *p);
    }
    strbuf_printf(&sb, ".%s", ext);
    rc = sb.overflow ? -1 : 0;
    if (rc == 0)
        snprintf(out, cap, "%s", sb.data);
    strbuf_free(&sb);
    return rc;
}
