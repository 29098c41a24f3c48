<?php
// Served by php-fpm (supervised by Steward) behind nginx (also supervised by Steward).
phpinfo();
