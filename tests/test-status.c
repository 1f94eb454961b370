/* test-status.c - status strings, messages and exit codes. */
#include <string.h>

#include "salient/status.h"
#include "testutil.h"

int main(void)
{
    CHECK(strcmp(sal_errmsg(), "") == 0, "fresh message should be empty");
    sal_status st = sal_fail(SAL_ERR_FORMAT, "file %s line %d", "a.txt", 7);
    CHECK(st == SAL_ERR_FORMAT, "sal_fail returns its code");
    CHECK(strcmp(sal_errmsg(), "file a.txt line 7") == 0, "got '%s'", sal_errmsg());
    sal_fail_context(st, "reading %s", "x.nc");
    CHECK(strcmp(sal_errmsg(), "reading x.nc: file a.txt line 7") == 0, "got '%s'",
          sal_errmsg());
    sal_clear_error();
    CHECK(sal_errmsg()[0] == '\0', "cleared");
    CHECK(sal_exit_code(SAL_OK) == 0, "ok exit");
    CHECK(sal_exit_code(SAL_ERR_ARG) == 64, "usage exit");
    CHECK(sal_exit_code(SAL_ERR_FORMAT) == 65, "data exit");
    CHECK(sal_exit_code(SAL_ERR_IO) == 74, "io exit");
    CHECK(sal_exit_code(SAL_ERR_INTERRUPTED) == 75, "resumable exit");
    CHECK(sal_exit_code(SAL_ERR_UNITS_FAILED) == 3, "partial exit");
    for (int s = SAL_OK; s <= SAL_ERR_DIFFERS; s++)
        CHECK(strcmp(sal_status_str((sal_status)s), "unknown status") != 0, "status %d named", s);
    return test_finish("test-status");
}
