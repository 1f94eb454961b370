/*
 * make-neurox-fixture - write the synthetic NeuroX fixture (tests/neurox_writer.h) for
 * the command-line test and the bundled demo.
 *
 *   make-neurox-fixture hdf5 OUT.hdf5 [--float16]    one file, 3 layers x 4 neurons
 *   make-neurox-fixture layers OUTPREFIX [--float16] OUTPREFIX-layer0.hdf5 ... -layer2.hdf5,
 *                                                    widths 4, 6, 6
 *   make-neurox-fixture json OUT.jsonl               JSON lines, 3 layers x 4 neurons
 *   make-neurox-fixture sentences OUT.txt            the corpus, one sentence per line
 *   make-neurox-fixture labels OUT.txt               a POS-like label per token
 *   make-neurox-fixture hdf5-nan OUT.hdf5            as hdf5, sentence 3 holds a NaN
 *   make-neurox-fixture hdf5-badwidth OUT.hdf5       as hdf5, sentence 5 has 5 neurons
 *
 * Exit status: 0 on success, 1 if writing failed, 2 on bad arguments.
 */
#include <stdio.h>
#include <string.h>

#include "neurox_writer.h"

static const char usage[] =
    "usage: make-neurox-fixture KIND OUT [--float16]\n"
    "  hdf5 OUT.hdf5 [--float16]     NeuroX HDF5, %d sentences, 3 layers x 4 neurons\n"
    "  layers OUTPREFIX [--float16]  OUTPREFIX-layer0.hdf5 .. -layer2.hdf5, widths 4, 6, 6\n"
    "  json OUT.jsonl                NeuroX JSON lines, 3 layers x 4 neurons\n"
    "  sentences OUT.txt             the corpus, one sentence per line\n"
    "  labels OUT.txt                a POS-like label per token, same shape\n"
    "  hdf5-nan OUT.hdf5             hdf5 with a NaN in sentence 3\n"
    "  hdf5-badwidth OUT.hdf5        hdf5 whose sentence 5 has 5 neurons per layer\n"
    "value(s, l, t, d) = ((37 s + 11 l + 5 t + 3 d) mod 97 - 48) / 16\n";

int main(int argc, char **argv)
{
    const int widths[3] = {4, 6, 6}, equal[3] = {4, 4, 4};
    int float16 = argc == 4 && strcmp(argv[3], "--float16") == 0;
    if (argc < 3 || argc > 4 || (argc == 4 && !float16)) {
        fprintf(stderr, usage, NEUROX_FIXTURE_NSENT);
        return 2;
    }
    const char *kind = argv[1], *out = argv[2];
    int takes16 = !strcmp(kind, "hdf5") || !strcmp(kind, "layers");
    if (float16 && !takes16) {
        fprintf(stderr, "make-neurox-fixture: --float16 applies to hdf5 and layers only\n");
        fprintf(stderr, usage, NEUROX_FIXTURE_NSENT);
        return 2;
    }
    sal_status st;
    if (!strcmp(kind, "hdf5"))
        st = neurox_fixture_write_hdf5(out, 3, 4, float16, NEUROX_CORRUPT_NONE);
    else if (!strcmp(kind, "layers"))
        st = neurox_fixture_write_layers(out, 3, widths, float16);
    else if (!strcmp(kind, "json"))
        st = neurox_fixture_write_json(out, 3, equal);
    else if (!strcmp(kind, "sentences"))
        st = neurox_fixture_write_sentences(out);
    else if (!strcmp(kind, "labels"))
        st = neurox_fixture_write_labels(out);
    else if (!strcmp(kind, "hdf5-nan"))
        st = neurox_fixture_write_hdf5(out, 3, 4, 0, NEUROX_CORRUPT_NAN);
    else if (!strcmp(kind, "hdf5-badwidth"))
        st = neurox_fixture_write_hdf5(out, 3, 4, 0, NEUROX_CORRUPT_WIDTH);
    else {
        fprintf(stderr, "make-neurox-fixture: unknown kind '%s'\n", kind);
        fprintf(stderr, usage, NEUROX_FIXTURE_NSENT);
        return 2;
    }
    if (st != SAL_OK) {
        fprintf(stderr, "make-neurox-fixture: %s\n", sal_errmsg());
        return 1;
    }
    return 0;
}
