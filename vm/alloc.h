/*
** alloc.h -- the allocator of lugo's Lua states: a small per-state arena
** with size classes and no block headers, over malloc.  See alloc.c.
*/
#ifndef lugo_alloc_h
#define lugo_alloc_h

#include <lua.h>
#include <stddef.h>

typedef struct lugo_arena lugo_arena;  /* defined in alloc.c */

/* Bytes in the chunk of a goroutine's state, and of a state with every
** library open (the host's, the main chunk's), headers included.
** Chunks lie side by side in malloc's heap, so the unused tail of one
** costs RSS up to a page, while what does not fit only pays malloc's
** header: a goroutine's chunk holds what nearly every goroutine uses (a
** fresh state with its root coroutine is 6 KB of it; one parked on a
** channel fills 8 KB).  A full state is about 20 KB; the rest of its chunk
** serves the main goroutine's garbage (64 KB: spawning from it and sending
** tables 5-8% faster than with 16 or 32 KB; 128 KB would be mmap'd). */
#ifndef LUGO_ARENA_SIZE
#define LUGO_ARENA_SIZE (8 * 1024)
#endif
#ifndef LUGO_ARENA_FULLSIZE
#define LUGO_ARENA_FULLSIZE (64 * 1024)
#endif

/* The largest block a chunk serves; larger ones come from malloc.  768
** takes in coroutine stacks (720 bytes) but not the 1 KB string table. */
#ifndef LUGO_ARENA_MAXBLOCK
#define LUGO_ARENA_MAXBLOCK 768
#endif

/* A new arena of size bytes (rounded up to 16; at most about 1 MB), not
** yet owned by a state.  NULL if out of memory or size is out of range. */
lugo_arena *lugo__alloc_new(size_t size);

/* Free an arena that no state owns (a state frees its own on lua_close). */
void lugo__alloc_free(lugo_arena *a);

/* The lua_Alloc over an arena (ud).  Blocks of 1..LUGO_ARENA_MAXBLOCK
** bytes come from the chunk while it has room, others from malloc. */
void *lugo__alloc_fn(void *ud, void *ptr, size_t osize, size_t nsize);

/* A state on a new arena of size bytes that it owns: lua_close frees the
** arena.  The caller sets the panic and warning functions.  NULL if out
** of memory or size has no room for Lua's main block (about 1.7 KB). */
lua_State *lugo__alloc_newstate(size_t size);

/* Is p inside a's chunk (as opposed to a block from malloc)? */
int lugo__alloc_inarena(const lugo_arena *a, const void *p);

/* Bytes of the chunk below the bump pointer, the header included. */
size_t lugo__alloc_used(const lugo_arena *a);

#endif
