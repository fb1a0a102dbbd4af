require('cdktf').Testing.setupJest();
