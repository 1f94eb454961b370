/*
 * plot.c - a study's figures through PLplot: heat maps of where the minimal neuron set
 * sits and accuracy-vs-neurons curves, as PNG (pngcairo) and SVG (svg).
 *
 * Each figure is drawn on a fresh PLplot stream into a temporary file, renamed once
 * PLplot has closed it. PLplot reports fatal errors through plexit(), which would end
 * the process: an exit handler jumps back to the figure's renderer instead, and an
 * abort handler records PLplot's non-fatal errors, so a figure that PLplot could not
 * draw completely is reported (naming its file) and not kept.
 *
 * Colours read in grayscale: the heat map uses a sequential map whose lightness falls
 * monotonically with the value (ColorBrewer's YlGnBu), the curves use Okabe and Ito's
 * colour-blind safe palette and a different marker per model.
 */
#include "salient/plot.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <plplot.h>

enum {
    DPI = 96,     /* pixels per inch given to PLplot */
    FONT_PX = 13, /* nominal label height in pixels (PLplot scale 1) */
};
#define CHAR_W (0.56 * FONT_PX) /* average advance of a label character, pixels */

/* cmap0 slots */
enum { C_BG, C_FG, C_GRID, C_NA, C_HATCH, C_MUTED, C_WHITE, C_LINE0 };
#define NLINE 7
static const unsigned char cmap0[C_LINE0 + NLINE][3] = {
    {255, 255, 255},
    {0, 0, 0},
    {215, 215, 215},
    {236, 236, 236},
    {150, 150, 150},
    {100, 100, 100},
    {255, 255, 255},
    /* Okabe & Ito, without yellow (too light on white) */
    {0, 114, 178},
    {213, 94, 0},
    {0, 158, 115},
    {204, 121, 167},
    {230, 159, 0},
    {86, 180, 233},
    {0, 0, 0}};
/* markers: filled shapes first, then open ones */
#define NMARK 10
static const char *const mark[NMARK] = {"●", "■", "▲", "◆", "▼", "○", "□", "△", "◇", "▽"};

/* YlGnBu (9 classes), from light to dark */
#define NSEQ 9
static const double seq[NSEQ][3] = {{255, 255, 217}, {237, 248, 177}, {199, 233, 180},
                                    {127, 205, 187}, {65, 182, 196},  {29, 145, 192},
                                    {34, 94, 168},   {37, 52, 148},   {8, 29, 88}};

/* The sequential colour at v in [0, 1] (components in [0, 1]). */
static void seq_rgb(double v, double rgb[3])
{
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    double x = v * (NSEQ - 1);
    int i = (int)x < NSEQ - 1 ? (int)x : NSEQ - 2;
    double f = x - i;
    for (int c = 0; c < 3; c++)
        rgb[c] = ((1 - f) * seq[i][c] + f * seq[i + 1][c]) / 255;
}

/* ---- rendering: one stream, one file ----------------------------------------------- */

static jmp_buf plot_escape;
static char plot_error[512];

/* PLplot's fatal error: record the message and leave the figure (never returns). */
static int plot_exit_handler(const char *msg)
{
    snprintf(plot_error, sizeof(plot_error), "%s", msg ? msg : "fatal error");
    longjmp(plot_escape, 1);
    return 1;
}

/* PLplot's non-fatal error (an operation skipped): keep the first message. */
static void plot_abort_handler(const char *msg)
{
    if (!plot_error[0])
        snprintf(plot_error, sizeof(plot_error), "%s", msg ? msg : "error");
}

/* The PLplot device for a file name, by its extension; NULL if neither .png nor .svg. */
static const char *device_for(const char *path)
{
    size_t n = strlen(path);
    if (n >= 4 && !strcmp(path + n - 4, ".png"))
        return "pngcairo";
    if (n >= 4 && !strcmp(path + n - 4, ".svg"))
        return "svg";
    return NULL;
}

/* 1 if this PLplot has device dev (asking plinit for a missing one would prompt). */
static int have_device(const char *dev)
{
    enum { MAXDEV = 256 };
    static const char *menu[MAXDEV], *name[MAXDEV];
    const char **pm = menu, **pn = name;
    int n = MAXDEV;
    plgDevs(&pm, &pn, &n);
    for (int i = 0; i < n; i++)
        if (name[i] && !strcmp(name[i], dev))
            return 1;
    return 0;
}

typedef void (*draw_fn)(const void *ctx);

/* Draw a w x h pixel figure with draw(ctx) into path (device by extension). */
static sal_status render(const char *path, int w, int h, draw_fn draw, const void *ctx)
{
    const char *dev = device_for(path);
    char tmp[4200];
    struct stat sb;
    if (!dev)
        return sal_fail(SAL_ERR_ARG, "%s: a figure is written as .png or .svg", path);
    if (!have_device(dev))
        return sal_fail(SAL_ERR_IO, "%s: PLplot has no %s device (Debian: apt-get install %s)",
                        path, dev, strcmp(dev, "svg") ? "plplot-driver-cairo" : "libplplot17");
    /* create the file first: PLplot would retry a name it cannot open, then exit */
    snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return sal_fail(SAL_ERR_IO, "%s: cannot create %s: %s", path, tmp, strerror(errno));
    fclose(f);
    PLINT strm = -1;
    plmkstrm(&strm);
    if (strm < 0) {
        unlink(tmp);
        return sal_fail(SAL_ERR_IO, "%s: PLplot has no free stream", path);
    }
    plot_error[0] = '\0';
    plsexit(plot_exit_handler);
    plsabort(plot_abort_handler);
    if (setjmp(plot_escape) == 0) {
        plsdev(dev);
        plsfnam(tmp);
        plspage(DPI, DPI, w, h, 0, 0);
        plscolbg(255, 255, 255);
        plscmap0n(C_LINE0 + NLINE);
        for (int i = 0; i < C_LINE0 + NLINE; i++)
            plscol0(i, cmap0[i][0], cmap0[i][1], cmap0[i][2]);
        PLFLT pos[NSEQ], r[NSEQ], g[NSEQ], b[NSEQ];
        for (int i = 0; i < NSEQ; i++) {
            pos[i] = (double)i / (NSEQ - 1);
            r[i] = seq[i][0] / 255;
            g[i] = seq[i][1] / 255;
            b[i] = seq[i][2] / 255;
        }
        plscmap1n(256);
        plscmap1l(1, NSEQ, pos, r, g, b, NULL);
        plinit();
        plschr(FONT_PX * 25.4 / DPI, 1.0);
        pladv(0);
        draw(ctx);
        plend1();
    } else if (setjmp(plot_escape) == 0) {
        plend1(); /* tidy the stream after a fatal error, if PLplot still can */
    }
    plsexit(NULL);
    plsabort(NULL);
    if (plot_error[0]) {
        unlink(tmp);
        return sal_fail(SAL_ERR_IO, "%s: PLplot: %s", path, plot_error);
    }
    if (stat(tmp, &sb) != 0 || sb.st_size == 0) {
        unlink(tmp);
        return sal_fail(SAL_ERR_IO, "%s: PLplot wrote nothing", path);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sal_fail(SAL_ERR_IO, "%s: %s", path, strerror(e));
    }
    return SAL_OK;
}

/* ---- drawing helpers (world coordinates in pixels unless said otherwise) ----------- */

/* s with PLplot's escape character '#' doubled, into buf. */
static const char *esc(const char *s, char *buf, size_t size)
{
    size_t n = 0;
    for (; *s && n + 2 < size; s++) {
        if (*s == '#')
            buf[n++] = '#';
        buf[n++] = *s;
    }
    buf[n] = '\0';
    return buf;
}

/* Text at (x, y), its vertical middle on y; just 0 left, 0.5 centre, 1 right. */
static void text(double x, double y, double just, double scale, int color, const char *s)
{
    char buf[1024];
    plschr(0, scale);
    plcol0(color);
    plptex(x, y, 1, 0, just, esc(s, buf, sizeof(buf)));
    plschr(0, 1);
}

static void rect_fill(double x0, double y0, double x1, double y1)
{
    PLFLT x[4] = {x0, x1, x1, x0}, y[4] = {y0, y0, y1, y1};
    plfill(4, x, y);
}

static void rect_line(double x0, double y0, double x1, double y1)
{
    PLFLT x[5] = {x0, x1, x1, x0, x0}, y[5] = {y0, y0, y1, y1, y0};
    plline(5, x, y);
}

/* World coordinates = pixels of the whole page, origin bottom left. */
static void page_pixels(int w, int h)
{
    plvpor(0, 1, 0, 1);
    plwind(0, w, 0, h);
}

/* Title and subtitle at the top of a w x h page. */
static void titles(int w, int h, const char *title, const char *sub)
{
    page_pixels(w, h);
    text(w / 2.0, h - 22, 0.5, 1.35, C_FG, title);
    if (sub)
        text(w / 2.0, h - 46, 0.5, 0.95, C_MUTED, sub);
}

/* A round step (1, 2 or 5 x 10^n, so that tick labels need one digit more than
 * the step's) near range / n. */
static double nice_step(double range, int n)
{
    double raw = range / n, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/* NULL if task t of s can be drawn, else why not. */
static const char *plot_check(const sal_plot_study *s, int t)
{
    if (!s || s->nmodel < 1 || s->ntask < 1 || !s->model || !s->task || !s->unit)
        return "no models or no tasks to plot";
    if (t < 0 || t >= s->ntask)
        return "no such task";
    return NULL;
}

/* Pixels that the title and subtitle of task t need (titles() draws them). */
static int titles_px(const sal_plot_study *s, int t, size_t title_len, size_t sub_len)
{
    size_t name = s->name ? strlen(s->name) + 2 : 0, task = strlen(s->task[t]);
    double a = CHAR_W * 1.35 * (double)(title_len + task),
           b = CHAR_W * 0.95 * (double)(sub_len + name);
    return (int)(a > b ? a : b) + 40;
}

static int max_len(const sal_plot_study *s)
{
    int n = 0;
    for (int m = 0; m < s->nmodel; m++)
        if ((int)strlen(s->model[m]) > n)
            n = (int)strlen(s->model[m]);
    return n;
}

/* ---- heat map of salient neurons per layer ---------------------------------------- */

typedef struct heat {
    const sal_plot_study *s;
    int t;
    int ncol;                    /* layers shown: the union of the models' selections */
    int *col;                    /* their numbers, ascending (-1: no layer known) */
    double vmax;                 /* top of the colour scale, a share */
    int w, h, left, top, cw, rh; /* page, margins, cell size (pixels) */
} heat;

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The share of unit u's minimal set in layer l, or NAN if l is not in its selection. */
static double share_of(const sal_plot_unit *u, int l)
{
    for (int i = 0; i < u->nlayer; i++)
        if (u->layer[i] == l)
            return u->share[i];
    return NAN;
}

static int has_minimal(const sal_plot_unit *u)
{
    return u->state == SAL_PLOT_OK && u->k_min > 0 && u->nlayer > 0 && u->layer && u->share;
}

/* What the row label's second line says about a unit. */
static void unit_note(const sal_plot_unit *u, char *buf, size_t size)
{
    if (u->state == SAL_PLOT_MISSING)
        snprintf(buf, size, "not run");
    else if (u->state == SAL_PLOT_FAILED)
        snprintf(buf, size, "failed");
    else if (u->k_min > 0)
        snprintf(buf, size, "minimal set %lld of %lld", u->k_min, u->neurons);
    else
        snprintf(buf, size, "no minimal set");
}

static void draw_heat(const void *ctx)
{
    const heat *hm = ctx;
    const sal_plot_study *s = hm->s;
    char buf[512], sub[512];
    snprintf(buf, sizeof(buf), "Salient neurons per layer: task %s", s->task[hm->t]);
    snprintf(sub, sizeof(sub), "%s%sshare of each model's minimal neuron set in each layer (%%)",
             s->name ? s->name : "", s->name ? ": " : "");
    titles(hm->w, hm->h, buf, sub);
    double ytop = hm->h - hm->top, xl = hm->left, xr = xl + hm->ncol * hm->cw;
    double ybot = ytop - s->nmodel * hm->rh;
    for (int m = 0; m < s->nmodel; m++) {
        const sal_plot_unit *u = &s->unit[m * s->ntask + hm->t];
        double y1 = ytop - m * hm->rh, y0 = y1 - hm->rh, ym = (y0 + y1) / 2;
        for (int c = 0; c < hm->ncol; c++) {
            double x0 = xl + c * hm->cw, x1 = x0 + hm->cw, xm = (x0 + x1) / 2;
            double v = has_minimal(u) ? share_of(u, hm->col[c]) : NAN;
            if (u->state == SAL_PLOT_FAILED) {
                plcol0(C_NA);
                rect_fill(x0, y0, x1, y1);
                plcol0(C_HATCH);
                plpsty(3);
                rect_fill(x0, y0, x1, y1);
                plpsty(0);
                plcol0(C_NA);
                rect_fill(xm - 0.36 * hm->cw, ym - 8, xm + 0.36 * hm->cw, ym + 8);
                text(xm, ym, 0.5, 0.8, C_FG, "failed");
            } else if (isnan(v)) {
                plcol0(C_NA);
                rect_fill(x0, y0, x1, y1);
                text(xm, ym, 0.5, 0.9, C_MUTED, "-");
            } else {
                double rgb[3], f = hm->vmax > 0 ? v / hm->vmax : 0;
                seq_rgb(f, rgb);
                plcol1(f < 0 ? 0 : f > 1 ? 1 : f);
                rect_fill(x0, y0, x1, y1);
                double lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
                if (v > 0 && v < 0.005)
                    snprintf(buf, sizeof(buf), "<1");
                else
                    snprintf(buf, sizeof(buf), "%.0f", 100 * v);
                text(xm, ym, 0.5, 0.9, lum < 0.45 ? C_WHITE : C_FG, buf);
            }
        }
        /* white rules between cells */
        plcol0(C_WHITE);
        plwidth(1.5);
        for (int c = 1; c < hm->ncol; c++)
            pljoin(xl + c * hm->cw, y0, xl + c * hm->cw, y1);
        if (m > 0)
            pljoin(xl, y1, xr, y1);
        plwidth(1);
        /* the row label: the model, and what its unit gave */
        unit_note(u, sub, sizeof(sub));
        text(xl - 10, ym + 8, 1, 1.0, C_FG, s->model[m]);
        text(xl - 10, ym - 9, 1, 0.78, C_MUTED, sub);
    }
    plcol0(C_HATCH);
    rect_line(xl, ybot, xr, ytop);
    /* column labels */
    for (int c = 0; c < hm->ncol; c++) {
        if (hm->col[c] >= 0)
            snprintf(buf, sizeof(buf), "%d", hm->col[c]);
        else
            snprintf(buf, sizeof(buf), "-");
        text(xl + (c + 0.5) * hm->cw, ybot - 14, 0.5, 0.95, C_FG, buf);
    }
    text((xl + xr) / 2, ybot - 38, 0.5, 1.0, C_FG, "layer");
    /* colour bar: vmax at the top, ticks every round step */
    double bx0 = xr + 26, bx1 = bx0 + 16, by0 = ybot, by1 = ytop;
    enum { NSTRIP = 64 };
    for (int i = 0; i < NSTRIP; i++) {
        plcol1((i + 0.5) / NSTRIP);
        rect_fill(bx0, by0 + (by1 - by0) * i / NSTRIP, bx1, by0 + (by1 - by0) * (i + 1) / NSTRIP);
    }
    plcol0(C_HATCH);
    rect_line(bx0, by0, bx1, by1);
    double top = 100 * hm->vmax, step = nice_step(top, 4);
    plcol0(C_FG);
    for (double v = 0; v <= top * (1 + 1e-9); v += step) {
        double y = by0 + (by1 - by0) * v / top;
        pljoin(bx1, y, bx1 + 4, y);
        snprintf(buf, sizeof(buf), "%g", v);
        text(bx1 + 7, y, 0, 0.85, C_FG, buf);
    }
    plschr(0, 0.9);
    plcol0(C_FG);
    plptex(bx1 + 42, (by0 + by1) / 2, 0, 1, 0.5, "% of minimal set");
    plschr(0, 1);
}

sal_status sal_plot_layers(const sal_plot_study *s, int t, const char *path)
{
    const char *why = plot_check(s, t);
    if (why)
        return sal_fail(SAL_ERR_ARG, "%s: %s", path, why);
    heat hm = {.s = s, .t = t};
    int cap = 0;
    for (int m = 0; m < s->nmodel; m++)
        cap += s->unit[m * s->ntask + t].nlayer;
    hm.col = malloc(sizeof(*hm.col) * (size_t)(cap + 1));
    if (!hm.col)
        return sal_fail(SAL_ERR_NOMEM, "%s: out of memory", path);
    double vmax = 0;
    for (int m = 0; m < s->nmodel; m++) {
        const sal_plot_unit *u = &s->unit[m * s->ntask + t];
        if (u->state != SAL_PLOT_OK || !u->layer)
            continue;
        for (int i = 0; i < u->nlayer; i++) {
            int known = 0;
            for (int c = 0; c < hm.ncol && !known; c++)
                known = hm.col[c] == u->layer[i];
            if (!known)
                hm.col[hm.ncol++] = u->layer[i];
            if (has_minimal(u) && u->share[i] > vmax)
                vmax = u->share[i];
        }
    }
    if (hm.ncol == 0)
        hm.col[hm.ncol++] = -1;
    qsort(hm.col, (size_t)hm.ncol, sizeof(*hm.col), cmp_int);
    /* the colour scale ends at the largest share, rounded up to 10% */
    hm.vmax = fmin(1, fmax(0.1, ceil(vmax * 10 - 1e-9) / 10));
    int name_px = (int)(CHAR_W * max_len(s)), note_px = (int)(CHAR_W * 0.78 * 28);
    hm.left = 24 + (name_px > note_px ? name_px : note_px);
    hm.cw = hm.ncol <= 4 ? 90 : hm.ncol <= 8 ? 64 : 48;
    hm.rh = 150 / s->nmodel > 46 ? 150 / s->nmodel : 46; /* the colour bar needs height */
    hm.top = 70;
    int right = 130, bottom = 62;
    hm.w = hm.left + hm.ncol * hm.cw + right;
    hm.h = hm.top + s->nmodel * hm.rh + bottom;
    /* room for the titles */
    int title_px = titles_px(s, t, 34, 62);
    if (hm.w < title_px) {
        hm.left += (title_px - hm.w) / 2;
        hm.w = title_px;
    }
    if (hm.w < 560) {
        hm.left += (560 - hm.w) / 2;
        hm.w = 560;
    }
    sal_status st = render(path, hm.w, hm.h, draw_heat, &hm);
    free(hm.col);
    return st;
}

/* ---- accuracy vs number of neurons ------------------------------------------------ */

typedef struct curves {
    const sal_plot_study *s;
    int t;
    int any;  /* some model has a curve */
    int logx; /* x on a log scale (k spans 1.5 decades or more) */
    double xmin, xmax, xstep, ymin, ymax, ystep; /* the window (x in log10 if logx) */
    int w, h, left, right, top, bottom;          /* pixels */
    char (*label)[256];                          /* legend text per model (escaped) */
} curves;

static double xval(const curves *cv, long long k)
{
    return cv->logx ? log10((double)k) : (double)k;
}

static void draw_curves(const void *ctx)
{
    const curves *cv = ctx;
    const sal_plot_study *s = cv->s;
    char buf[512], sub[512];
    snprintf(buf, sizeof(buf), "Accuracy vs number of neurons: task %s", s->task[cv->t]);
    snprintf(sub, sizeof(sub),
             "%s%sprobe retrained on the top-ranked neurons; solid: test, dashed: dev",
             s->name ? s->name : "", s->name ? ": " : "");
    titles(cv->w, cv->h, buf, sub);
    plvpor((double)cv->left / cv->w, 1 - (double)cv->right / cv->w, (double)cv->bottom / cv->h,
           1 - (double)cv->top / cv->h);
    plwind(cv->xmin, cv->xmax, cv->ymin, cv->ymax);
    const char *xopt = cv->logx ? "bcfnstl" : "bcnst";
    plcol0(C_GRID);
    plbox(cv->logx ? "gl" : "g", cv->logx ? 0 : cv->xstep, 0, "g", cv->ystep, 0);
    plcol0(C_FG);
    plbox(xopt, cv->logx ? 0 : cv->xstep, 0, "bcnstv", cv->ystep, 0);
    plmtex("b", 3.2, 0.5, 0.5, "number of neurons kept (most salient first)");
    plmtex("l", 4.6, 0.5, 0.5, "accuracy");
    int nl = s->nmodel + 3;
    PLINT *opt = calloc((size_t)nl, sizeof(*opt)), *tcol = calloc((size_t)nl, sizeof(*tcol));
    PLINT *lcol = calloc((size_t)nl, sizeof(*lcol)), *lsty = calloc((size_t)nl, sizeof(*lsty));
    PLINT *snum = calloc((size_t)nl, sizeof(*snum));
    PLFLT *lwid = calloc((size_t)nl, sizeof(*lwid)), *sscl = calloc((size_t)nl, sizeof(*sscl));
    const char **txt = calloc((size_t)nl, sizeof(*txt)), **sym = calloc((size_t)nl, sizeof(*sym));
    PLFLT *x = NULL, *y = NULL;
    int maxn = 1;
    for (int m = 0; m < s->nmodel; m++)
        if (s->unit[m * s->ntask + cv->t].ncurve > maxn)
            maxn = s->unit[m * s->ntask + cv->t].ncurve;
    x = malloc(sizeof(*x) * (size_t)maxn);
    y = malloc(sizeof(*y) * (size_t)maxn);
    if (!opt || !tcol || !lcol || !lsty || !snum || !lwid || !sscl || !txt || !sym || !x || !y) {
        plot_abort_handler("out of memory");
        goto done;
    }
    for (int m = 0; m < s->nmodel; m++) {
        const sal_plot_unit *u = &s->unit[m * s->ntask + cv->t];
        int col = C_LINE0 + m % NLINE, n = u->state == SAL_PLOT_OK ? u->ncurve : 0;
        const char *mk = mark[m % NMARK];
        txt[m] = cv->label[m];
        sym[m] = mk;
        snum[m] = 1;
        sscl[m] = 1;
        if (n == 0) {
            opt[m] = PL_LEGEND_NONE;
            tcol[m] = C_MUTED;
            continue;
        }
        opt[m] = PL_LEGEND_LINE | PL_LEGEND_SYMBOL;
        tcol[m] = C_FG;
        lcol[m] = col;
        lsty[m] = 1;
        lwid[m] = 2;
        for (int i = 0; i < n; i++)
            x[i] = xval(cv, u->curve_k[i]);
        plcol0(col);
        /* dev, dashed and thinner, under the test curve */
        for (int i = 0; i < n; i++)
            y[i] = u->curve_dev[i];
        pllsty(2);
        plwidth(1.2);
        if (n > 1) {
            plline(n, x, y);
        } else { /* a lone point: a short dashed stroke at its height */
            double dx = 0.03 * (cv->xmax - cv->xmin);
            pljoin(x[0] - dx, y[0], x[0] + dx, y[0]);
        }
        pllsty(1);
        plwidth(2);
        for (int i = 0; i < n; i++)
            y[i] = u->curve_test[i];
        if (n > 1)
            plline(n, x, y);
        plwidth(1);
        plschr(0, 0.8);
        plstring(n, x, y, mk);
        /* the minimal set: a ring, and a dotted drop line to the axis */
        for (int i = 0; i < n; i++)
            if (u->curve_k[i] == u->k_min) {
                PLINT dot = 300, gap = 1500;
                plstyl(1, &dot, &gap);
                pljoin(x[i], cv->ymin, x[i], y[i]);
                plstyl(0, NULL, NULL);
                plschr(0, 2.0);
                plstring(1, &x[i], &y[i], "○");
            }
        plschr(0, 1);
    }
    if (!cv->any) {
        plschr(0, 1.0);
        plcol0(C_MUTED);
        plptex((cv->xmin + cv->xmax) / 2, (cv->ymin + cv->ymax) / 2, 1, 0, 0.5,
               "no curves: the minimal-set analysis was not run");
    }
    /* the key to line styles and the ring */
    int k = s->nmodel;
    const char *key[3] = {"test accuracy", "dev accuracy", "minimal neuron set"};
    for (int i = 0; i < 3; i++, k++) {
        opt[k] = i < 2 ? PL_LEGEND_LINE : PL_LEGEND_SYMBOL;
        txt[k] = key[i];
        tcol[k] = C_FG;
        lcol[k] = C_FG;
        lsty[k] = i == 0 ? 1 : 2;
        lwid[k] = i == 0 ? 2 : 1.2;
        sym[k] = "○";
        snum[k] = 1;
        sscl[k] = 2.0;
    }
    /* the legend, in the right margin, its top level with the plot's */
    double lx0 = cv->w - cv->right + 24, lx1 = cv->w - 8;
    PLFLT lw, lh;
    plvpor(lx0 / cv->w, lx1 / cv->w, (double)cv->bottom / cv->h, 1 - (double)cv->top / cv->h);
    plwind(0, 1, 0, 1);
    plschr(0, 0.9);
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND,
             PL_POSITION_LEFT | PL_POSITION_TOP | PL_POSITION_INSIDE, 0, 0, 44 / (lx1 - lx0), C_BG,
             C_GRID, 1, 0, 0, nl, opt, 1.0, 1.0, 2.2, 0, tcol, txt, NULL, NULL, NULL, NULL, lcol,
             lsty, lwid, lcol, sscl, snum, sym);
    plschr(0, 1);
done:
    free(opt), free(tcol), free(lcol), free(lsty), free(snum), free(lwid), free(sscl);
    free(txt), free(sym), free(x), free(y);
}

sal_status sal_plot_curves(const sal_plot_study *s, int t, const char *path)
{
    const char *why = plot_check(s, t);
    if (why)
        return sal_fail(SAL_ERR_ARG, "%s: %s", path, why);
    curves cv = {.s = s, .t = t};
    cv.label = calloc((size_t)s->nmodel + 1, sizeof(*cv.label));
    if (!cv.label)
        return sal_fail(SAL_ERR_NOMEM, "%s: out of memory", path);
    long long kmin = 0, kmax = 0;
    double ymin = INFINITY, ymax = -INFINITY;
    size_t lmax = strlen("minimal neuron set");
    for (int m = 0; m < s->nmodel; m++) {
        const sal_plot_unit *u = &s->unit[m * s->ntask + t];
        if (u->state == SAL_PLOT_MISSING)
            snprintf(cv.label[m], sizeof(cv.label[m]), "%s: not run", s->model[m]);
        else if (u->state == SAL_PLOT_FAILED)
            snprintf(cv.label[m], sizeof(cv.label[m]), "%s: failed", s->model[m]);
        else if (u->ncurve == 0)
            snprintf(cv.label[m], sizeof(cv.label[m]), "%s: no curve", s->model[m]);
        else
            snprintf(cv.label[m], sizeof(cv.label[m]), "%s (minimal set %lld of %lld)", s->model[m],
                     u->k_min, u->neurons);
        if (strlen(cv.label[m]) > lmax)
            lmax = strlen(cv.label[m]);
        char raw[sizeof(cv.label[m])];
        memcpy(raw, cv.label[m], sizeof(raw));
        esc(raw, cv.label[m], sizeof(cv.label[m])); /* pllegend takes PLplot text */
        if (u->state != SAL_PLOT_OK)
            continue;
        for (int i = 0; i < u->ncurve; i++) {
            long long k = u->curve_k[i];
            if (k < 1)
                continue;
            cv.any = 1;
            kmin = kmin == 0 || k < kmin ? k : kmin;
            kmax = k > kmax ? k : kmax;
            double a = u->curve_test[i], b = u->curve_dev[i];
            ymin = fmin(ymin, fmin(a, b));
            ymax = fmax(ymax, fmax(a, b));
        }
    }
    if (!cv.any) {
        kmin = kmax = 1;
        ymin = 0, ymax = 1;
    }
    cv.logx = kmax >= 30 * kmin;
    if (cv.logx) {
        double lo = log10((double)kmin), hi = log10((double)kmax);
        cv.xmin = lo - 0.06 * (hi - lo);
        cv.xmax = hi + 0.06 * (hi - lo);
    } else {
        cv.xstep = fmax(1, nice_step((double)kmax, 6));
        cv.xmin = 0;
        cv.xmax = ceil((double)kmax * 1.02 / cv.xstep) * cv.xstep;
        if (cv.xmax <= kmax)
            cv.xmax += cv.xstep;
    }
    double pad = fmax(0.02, 0.05 * (ymax - ymin));
    cv.ystep = nice_step(fmax(0.05, ymax - ymin + 2 * pad), 5);
    cv.ymin = fmax(0, floor((ymin - pad) / cv.ystep) * cv.ystep);
    cv.ymax = fmin(1, ceil((ymax + pad) / cv.ystep) * cv.ystep);
    if (cv.ymax <= cv.ymin)
        cv.ymax = cv.ymin + cv.ystep;
    cv.left = 92;
    /* the legend: gap, line sample, text (wide glyphs counted generously), padding */
    cv.right = 24 + 60 + (int)(1.1 * CHAR_W * 0.9 * (double)lmax) + 48;
    cv.top = 72;
    cv.bottom = 64;
    cv.w = cv.left + 560 + cv.right;
    if (cv.w < titles_px(s, t, 38, 70))
        cv.w = titles_px(s, t, 38, 70);
    cv.h = cv.top + 380 + cv.bottom;
    int nkey = s->nmodel + 3, key_px = (int)(nkey * 2.2 * 0.9 * FONT_PX) + 20;
    if (cv.h < cv.top + key_px + cv.bottom)
        cv.h = cv.top + key_px + cv.bottom;
    sal_status st = render(path, cv.w, cv.h, draw_curves, &cv);
    free(cv.label);
    return st;
}

/* ---- every figure ----------------------------------------------------------------- */

static void stem_of(const char *task, char *buf, size_t size)
{
    size_t n = 0;
    for (; *task && n + 1 < size; task++) {
        char c = *task;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        buf[n++] = ok ? c : '_';
    }
    buf[n] = '\0';
    if (n == 0 && size > 1) /* an empty name */
        snprintf(buf, size, "_");
    else if (buf[0] == '.') /* no hidden files, no ".." */
        buf[0] = '_';
}

void sal_plot_task_stem(const sal_plot_study *s, int t, char *buf, size_t size)
{
    char other[256];
    stem_of(s->task[t], buf, size);
    for (int i = 0; i < t; i++) { /* two tasks whose names differ only in odd characters */
        stem_of(s->task[i], other, sizeof(other));
        if (!strcmp(other, buf)) {
            size_t n = strlen(buf);
            snprintf(buf + n, size - n, "-%d", t);
            break;
        }
    }
}

sal_status sal_plot_write(const sal_plot_study *s, const char *dir, int *nfile)
{
    static const char *const ext[2] = {"png", "svg"};
    if (nfile)
        *nfile = 0;
    const char *why = plot_check(s, 0);
    if (why)
        return sal_fail(SAL_ERR_ARG, "%s: %s", dir, why);
    struct stat sb;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return sal_fail(SAL_ERR_IO, "%s: %s", dir, strerror(errno));
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return sal_fail(SAL_ERR_IO, "%s: not a directory", dir);
    for (int t = 0; t < s->ntask; t++) {
        char stem[256], path[4400];
        sal_plot_task_stem(s, t, stem, sizeof(stem));
        for (int e = 0; e < 2; e++) {
            sal_status st;
            snprintf(path, sizeof(path), "%s/layers-%s.%s", dir, stem, ext[e]);
            if ((st = sal_plot_layers(s, t, path)))
                return st;
            snprintf(path, sizeof(path), "%s/curves-%s.%s", dir, stem, ext[e]);
            if ((st = sal_plot_curves(s, t, path)))
                return st;
            if (nfile)
                *nfile += 2;
        }
    }
    return SAL_OK;
}
