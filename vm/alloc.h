/*
** alloc.h -- the allocator of goroutine states: a small per-state arena
** with size classes and no block headers, over malloc.  See alloc.c.
*/
#ifndef lugo_alloc_h
#define lugo_alloc_h

#include <lua.h>
#include <stddef.h>

typedef struct lugo_arena lugo_arena;  /* defined in alloc.c */

/* bytes in the chunk of a goroutine's state, and of a state with every
** library open (the host's), headers included */
#ifndef LUGO_ARENA_SIZE
#define LUGO_ARENA_SIZE (8 * 1024)
#endif
#ifndef LUGO_ARENA_FULLSIZE
#define LUGO_ARENA_FULLSIZE (64 * 1024)
#endif

/* the largest block the arena serves; larger ones come from malloc */
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

/* A state on a new arena that it owns: lua_close frees the arena.  The
** caller sets the panic and warning functions.  NULL if out of memory. */
lua_State *lugo__alloc_newstate(size_t size);

/* Is p inside a's chunk (as opposed to a block from malloc)? */
int lugo__alloc_inarena(const lugo_arena *a, const void *p);

/* Bytes of the chunk below the bump pointer, the header included. */
size_t lugo__alloc_used(const lugo_arena *a);

#endif
