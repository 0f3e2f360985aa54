# Options every scopenn target gets: warnings (errors with SCOPENN_WERROR)
# and the sanitizers asked for. Third-party code is not built here.
function(scopenn_project_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wundef)
  if(SCOPENN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  # 64-bit file offsets and inode numbers on 32-bit targets too: without
  # them stat and readdir fail with EOVERFLOW on a file system with large
  # inode numbers (a 64-bit host's, under qemu-arm; XFS or btrfs on a Pi)
  target_compile_definitions(${target} PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE
                                               _FILE_OFFSET_BITS=64)
endfunction()

if(SCOPENN_SANITIZE)
  list(JOIN SCOPENN_SANITIZE "," _sn_san)
  add_compile_options(-fsanitize=${_sn_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_sn_san})
endif()
