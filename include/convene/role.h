/*
 * role.h - what a caller may do, as a bit mask: a token's or a session's
 * access (CONTRACT sections 2 and 9). Below the HTTP layer too, since the
 * change stream filters by it.
 */
#ifndef CONVENE_ROLE_H
#define CONVENE_ROLE_H

enum role {
    ROLE_NONE = 0,
    ROLE_ADMIN = 1 << 0,
    ROLE_SECRETARY = 1 << 1,
    ROLE_LEADER = 1 << 2,
    ROLE_DRIVER = 1 << 3,
    ROLE_CANTEEN = 1 << 4, /* meal counts and their CSV, nothing else */
};

#endif
