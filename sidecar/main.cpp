#include <iostream>  // POCO_SERVER_MAIN reports exceptions on std::cerr

#include "app/SidecarApplication.h"

POCO_SERVER_MAIN(portico::SidecarApplication)
